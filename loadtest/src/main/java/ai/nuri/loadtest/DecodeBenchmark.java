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
import java.util.Arrays;
import java.util.List;

/**
 * Single-stream decode speed of a model folder: a warm-up, then several generations of a fixed
 * number of tokens (end-of-sequence ignored), reporting prefill time and decode tokens/s.
 *
 * <pre>java -cp "loadtest/target/nuri-loadtest-*.jar:server/target/nuri-server.jar" \
 *     ai.nuri.loadtest.DecodeBenchmark model-store/nuri-ko-mini [tokens] [runs]</pre>
 */
public final class DecodeBenchmark {
    public static void main(String[] args) throws Exception {
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
        Path folder = Path.of(args.length > 0 ? args[0] : "model-store/nuri-ko-mini");
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        try (LanguageModel model = LanguageModel.load(folder); Tokenizer tokenizer = Tokenizer.load(folder);
                Engine engine = new Engine(model, tokenizer,
                        EngineConfig.singleStream(model.config().maxPositionEmbeddings()), EngineObserver.NONE)) {
            Generator generator = new Generator(engine);
            String question = "여권 재발급은 어디서 하나요?";
            int[] prompt = tokenizer.chatTemplate().isPresent() ? tokenizer.encodeChat(List.of(ChatMessage.user(question)))
                    : tokenizer.encode(question);
            SamplingParams params = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, tokens, List.of(), List.of(), true);
            SamplingParams firstOnly = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 1, List.of(), List.of(), true);
            generator.generate(prompt, params, d -> { }); // warm-up
            double[] rates = new double[runs];
            double prefillSeconds = 0;
            for (int i = 0; i < runs; i++) {
                // Decode rate excludes the prefill: (N - 1) tokens over the time a run of N takes beyond a run of 1.
                long t0 = System.nanoTime();
                generator.generate(prompt, firstOnly, d -> { });
                long t1 = System.nanoTime();
                Generator.Result r = generator.generate(prompt, params, d -> { });
                long t2 = System.nanoTime();
                prefillSeconds += (t1 - t0) / 1e9 / runs;
                rates[i] = (r.tokens().length - 1) / (((t2 - t1) - (t1 - t0)) / 1e9);
            }
            Arrays.sort(rates);
            System.out.printf("model=%s params=%,d prompt_tokens=%d generated_tokens=%d runs=%d "
                            + "prefill_plus_first_token_ms=%.1f decode_tokens_per_s median=%.1f min=%.1f max=%.1f%n",
                    folder.getFileName(), model.decoder().parameterCount(), prompt.length, tokens, runs,
                    prefillSeconds * 1000, rates[runs / 2], rates[0], rates[runs - 1]);
        }
    }
}
