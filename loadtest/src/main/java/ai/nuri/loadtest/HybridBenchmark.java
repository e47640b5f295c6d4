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
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * Model folders side by side in one run, in-process through the engine: decode throughput at
 * several batch sizes, prefill speed of one long prompt, and memory per sequence (KV cache plus,
 * for hybrid models, recurrent state) at two context lengths. Made to compare a hybrid
 * NemotronH bench model with a transformer of similar size.
 *
 * <pre>java -cp "loadtest/target/nuri-loadtest-*.jar:server/target/nuri-server.jar" \
 *     ai.nuri.loadtest.HybridBenchmark target/nuri-bench-h target/nuri-bench-llama</pre>
 *
 * Options as system properties: {@code -Dbatches=1,8,32,64 -Dtokens=32 -Dprefill=2000}.
 */
public final class HybridBenchmark {
    public static void main(String[] args) throws Exception {
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
        int[] batches = java.util.Arrays.stream(System.getProperty("batches", "1,8,32,64").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int tokens = Integer.getInteger("tokens", 32);
        int prefill = Integer.getInteger("prefill", 2000);
        for (String arg : args) {
            bench(Path.of(arg), batches, tokens, prefill);
        }
    }

    private static void bench(Path folder, int[] batches, int tokens, int prefillTokens) throws Exception {
        int maxBatch = java.util.Arrays.stream(batches).max().orElse(1);
        try (LanguageModel model = LanguageModel.load(folder); Tokenizer tokenizer = Tokenizer.load(folder)) {
            int maxLen = Math.min(model.config().maxPositionEmbeddings(), prefillTokens + 64);
            int blocks = maxBatch * ((maxLen + 15) / 16) + 1;
            EngineConfig config = new EngineConfig(maxBatch, 512, blocks, 16, 1024, maxLen, false, maxBatch);
            System.out.printf("model=%s architecture=%s params=%,d kv_bytes_per_token=%d state_bytes_per_sequence=%d%n",
                    folder.getFileName(), model.config().architecture(), model.decoder().parameterCount(),
                    model.kvBytesPerToken(), model.stateBytesPerSequence());
            for (int context : new int[] {2048, 8192}) {
                long bytes = model.kvBytesPerToken() * context + model.stateBytesPerSequence();
                System.out.printf("  memory_per_sequence context=%d MiB=%.2f (kv %.2f + state %.2f)%n", context,
                        bytes / 1048576.0, model.kvBytesPerToken() * context / 1048576.0,
                        model.stateBytesPerSequence() / 1048576.0);
            }
            try (Engine engine = new Engine(model, tokenizer, config, EngineObserver.NONE)) {
                Generator generator = new Generator(engine);
                int[] prompt = tokenizer.encodeChat(List.of(ChatMessage.user("여권 재발급은 어디서 하나요?")));
                SamplingParams fixed = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, tokens, List.of(), List.of(), true);
                generator.generate(prompt, fixed, d -> { }); // warm-up
                for (int b : batches) {
                    List<CompletableFuture<Generator.Result>> futures = new ArrayList<>();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < b; i++) {
                        futures.add(CompletableFuture.supplyAsync(() -> generator.generate(prompt, fixed, d -> { })));
                    }
                    long generated = futures.stream().mapToLong(f -> f.join().tokens().length).sum();
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("  decode batch=%d prompt_tokens=%d tokens_per_request=%d tokens_per_s=%.1f%n", b,
                            prompt.length, tokens, generated / seconds);
                }
                SplittableRandom random = new SplittableRandom(1);
                int[] longPrompt = new int[prefillTokens];
                for (int i = 0; i < longPrompt.length; i++) {
                    longPrompt[i] = 3 + random.nextInt(Math.min(3000, model.config().vocabSize()) - 3); // ids every tokenizer here knows
                }
                SamplingParams one = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 1, List.of(), List.of(), true);
                generator.generate(longPrompt, one, d -> { }); // warm-up at this length
                long t0 = System.nanoTime();
                generator.generate(longPrompt, one, d -> { });
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("  prefill prompt_tokens=%d chunk=512 seconds=%.2f tokens_per_s=%.1f%n", prefillTokens,
                        seconds, prefillTokens / seconds);
            }
        }
    }
}
