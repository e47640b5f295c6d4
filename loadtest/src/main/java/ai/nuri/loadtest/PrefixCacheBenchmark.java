package ai.nuri.loadtest;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.engine.EngineObserver;
import ai.nuri.engine.Generator;
import ai.nuri.engine.SamplingParams;
import ai.nuri.model.LanguageModel;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import java.nio.file.Path;
import java.util.List;

/**
 * Time to first token for requests that share a long system prompt, with the prefix cache off
 * and on: the prefill work the cache saves.
 *
 * <pre>java -cp loadtest/target/nuri-loadtest-0.1.0-SNAPSHOT.jar:server/target/nuri-server.jar \
 *     ai.nuri.loadtest.PrefixCacheBenchmark target/nuri-bench-100m 20</pre>
 */
public final class PrefixCacheBenchmark {
    private static final String[] QUESTIONS = {"여권 재발급은 어디서 하나요?", "전입신고는 온라인으로 할 수 있나요?",
        "실업급여는 어떻게 신청하나요?", "폐건전지는 어디에 버리나요?", "국민연금은 언제부터 받을 수 있나요?"};

    public static void main(String[] args) throws Exception {
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
        Path folder = Path.of(args.length > 0 ? args[0] : "model-store/nuri-ko-mini");
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        String system = "너는 대한민국 공공 서비스를 안내하는 도우미야. 민원, 세금, 복지, 교통, 안전에 대해 담당 기관과 "
                + "신청 방법을 정확하고 친절하게 알려 줘. ".repeat(8);
        try (LanguageModel model = LanguageModel.load(folder); Tokenizer tokenizer = Tokenizer.load(folder)) {
            int context = Math.min(model.config().maxPositionEmbeddings(), 1024);
            for (boolean caching : new boolean[] {false, true}) {
                EngineConfig config = new EngineConfig(1, 2048, context / 16 * 8, 16, 16, context, caching);
                try (Engine engine = new Engine(model, tokenizer, config, EngineObserver.NONE)) {
                    Generator generator = new Generator(engine);
                    SamplingParams firstToken = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 1, List.of(), List.of(), true);
                    int promptTokens = 0;
                    double total = 0;
                    for (int i = -1; i < requests; i++) { // i = -1 warms up (and, with caching, fills the cache)
                        int[] prompt = tokenizer.encodeChat(List.of(ChatMessage.system(system),
                                ChatMessage.user(QUESTIONS[Math.floorMod(i, QUESTIONS.length)])));
                        promptTokens = prompt.length;
                        long t0 = System.nanoTime();
                        generator.generate(prompt, firstToken, d -> { });
                        if (i >= 0) {
                            total += (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    System.out.printf("model=%s prefix_caching=%s prompt_tokens=%d requests=%d mean_ttft_ms=%.1f%n",
                            folder.getFileName(), caching, promptTokens, requests, total / requests);
                }
            }
        }
    }
}
