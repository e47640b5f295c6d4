package ai.nuri.cli;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.engine.EngineObserver;
import ai.nuri.engine.Generator;
import ai.nuri.engine.SamplingParams;
import ai.nuri.model.GenerationConfig;
import ai.nuri.model.LanguageModel;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Streams one answer to stdout: the quickest way to see a model work. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate a reply to a prompt, streamed to stdout as it is produced.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model folder (default: the bundled demo, $NURI_MODEL_STORE/nuri-ko-mini).")
    Path model;

    @Option(names = "--prompt", required = true, description = "The user's message (or raw text with --raw).")
    String prompt;

    @Option(names = "--system", description = "An optional system message.")
    String system;

    @Option(names = "--raw", description = "Feed the prompt as-is, without the chat template.")
    boolean raw;

    @Option(names = "--temperature", description = "0 is greedy (default: the model's generation_config, else 0).")
    Double temperature;

    @Option(names = "--top-p", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).", defaultValue = "1.0")
    double topP;

    @Option(names = "--top-k", description = "Sample among the k most likely tokens; 0 is off (default: ${DEFAULT-VALUE}).",
            defaultValue = "0")
    int topK;

    @Option(names = "--min-p", description = "Drop tokens below min-p times the top probability (default: ${DEFAULT-VALUE}).",
            defaultValue = "0")
    double minP;

    @Option(names = "--repetition-penalty", defaultValue = "1.0", description = "Default: ${DEFAULT-VALUE} (off).")
    double repetitionPenalty;

    @Option(names = "--seed", description = "Seed for reproducible sampling.")
    Long seed;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--stop", description = "A stop string (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--dtype", defaultValue = "float32", description = "float32 or float16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--stats", description = "Print token counts and decode speed to stderr.")
    boolean stats;

    @Override
    public Integer call() throws Exception {
        Path folder = Runtime.requireFolder(model != null ? model : Runtime.defaultModel());
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (LanguageModel lm = LanguageModel.load(folder, Runtime.device(device), Runtime.dtype(dtype));
                Tokenizer tokenizer = Tokenizer.load(folder)) {
            try (Engine engine = new Engine(lm, tokenizer, EngineConfig.singleStream(lm.config().maxPositionEmbeddings()),
                    EngineObserver.NONE)) {
                int[] ids = promptTokens(tokenizer);
                GenerationConfig gc = lm.generationConfig();
                double t = temperature != null ? temperature
                        : Boolean.TRUE.equals(gc.doSample()) && gc.temperature() != null ? gc.temperature() : 0.0;
                SamplingParams params = new SamplingParams(t, topP, topK, minP, repetitionPenalty, 0, 0, seed, maxTokens,
                        stop, List.of(), false);
                long start = System.nanoTime();
                long[] firstToken = {0};
                Generator.Result r = new Generator(engine).generate(ids, params, delta -> {
                    if (firstToken[0] == 0) {
                        firstToken[0] = System.nanoTime();
                    }
                    out.print(delta);
                    out.flush();
                });
                out.println();
                if (stats) {
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.err.printf("prompt_tokens=%d generated_tokens=%d finish_reason=%s seconds=%.3f tokens_per_s=%.1f%n",
                            r.promptTokens(), r.tokens().length, r.finishReason().apiName(), seconds,
                            r.tokens().length / seconds);
                }
            }
        }
        return 0;
    }

    private int[] promptTokens(Tokenizer tokenizer) {
        if (raw || tokenizer.chatTemplate().isEmpty()) {
            return tokenizer.encode(prompt);
        }
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
        messages.add(ChatMessage.user(prompt));
        return tokenizer.encodeChat(messages);
    }
}
