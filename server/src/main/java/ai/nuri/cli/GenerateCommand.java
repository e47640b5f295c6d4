package ai.nuri.cli;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.engine.EngineObserver;
import ai.nuri.engine.EngineImage;
import ai.nuri.engine.Generator;
import ai.nuri.media.ImageDecoder;
import ai.nuri.media.ImagePreprocessor;
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

    @Option(names = "--image", description = "An image file (PNG, JPEG, GIF, BMP, WebP) placed before the prompt; repeatable."
            + " Needs an image+text model such as model-store/nuri-ko-vision-mini.")
    List<Path> images = new ArrayList<>();

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
                List<EngineImage> pictures = images(lm, folder);
                int[] ids = pictures.isEmpty() ? promptTokens(tokenizer) : lm.expandImageTokens(promptTokens(tokenizer));
                GenerationConfig gc = lm.generationConfig();
                double t = temperature != null ? temperature
                        : Boolean.TRUE.equals(gc.doSample()) && gc.temperature() != null ? gc.temperature() : 0.0;
                checkRange("--temperature", t, 0, 2);
                checkRange("--top-p", topP, Double.MIN_VALUE, 1);
                checkRange("--min-p", minP, 0, 1);
                checkRange("--repetition-penalty", repetitionPenalty, Double.MIN_VALUE, 10);
                checkRange("--top-k", topK, -1, Integer.MAX_VALUE);
                checkRange("--max-tokens", maxTokens, 1, Integer.MAX_VALUE);
                SamplingParams params = new SamplingParams(t, topP, topK, minP, repetitionPenalty, 0, 0, seed, maxTokens,
                        stop, List.of(), false);
                long start = System.nanoTime();
                long[] firstToken = {0};
                Generator.Result r = new Generator(engine).generate(ids, pictures, params, delta -> {
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
            if (!images.isEmpty()) {
                throw new IllegalArgumentException("--image needs the chat template (not --raw)");
            }
            return tokenizer.encode(prompt);
        }
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
        if (images.isEmpty()) {
            messages.add(ChatMessage.user(prompt));
        } else {
            List<ChatMessage.Part> parts = new ArrayList<>();
            images.forEach(i -> parts.add(ChatMessage.Part.IMAGE));
            parts.add(new ChatMessage.Part(prompt));
            messages.add(ChatMessage.withParts("user", parts));
        }
        return tokenizer.encodeChat(messages);
    }

    /** The --image files, decoded and preprocessed as the server does it. */
    private List<EngineImage> images(LanguageModel lm, Path folder) throws java.io.IOException {
        if (images.isEmpty()) {
            return List.of();
        }
        if (!lm.acceptsImages()) {
            throw new IllegalArgumentException(folder + " is a text model; --image needs an image+text model");
        }
        ImagePreprocessor pre = ImagePreprocessor.read(folder.resolve("preprocessor_config.json"));
        ImageDecoder decoder = new ImageDecoder(16_777_216L);
        List<EngineImage> out = new ArrayList<>();
        for (Path p : images) {
            ImagePreprocessor.Pixels px = pre.apply(decoder.decode(java.nio.file.Files.readAllBytes(p)));
            out.add(new EngineImage(px.chw(), px.height(), px.width()));
        }
        return out;
    }

    /** The same ranges as the API's, so generate refuses what a request would be refused for. */
    private static void checkRange(String option, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            String low = min == Double.MIN_VALUE ? "greater than 0" : ">= " + (min == Math.rint(min) ? String.valueOf((long) min) : min);
            throw new IllegalArgumentException(option + " must be " + low + " and <= "
                    + (max == Integer.MAX_VALUE ? "any" : max == Math.rint(max) ? String.valueOf((long) max) : max) + ", got " + value);
        }
    }
}
