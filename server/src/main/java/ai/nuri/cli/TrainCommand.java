package ai.nuri.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.engine.EngineObserver;
import ai.nuri.engine.Generator;
import ai.nuri.engine.SamplingParams;
import ai.nuri.model.CheckpointWriter;
import ai.nuri.model.CausalLm;
import ai.nuri.model.HybridConfig;
import ai.nuri.model.HybridModel;
import ai.nuri.model.LanguageModel;
import ai.nuri.model.ModelConfig;
import ai.nuri.model.RandomWeights;
import ai.nuri.model.train.CausalLmTrainer;
import ai.nuri.model.train.TrainingExample;
import ai.nuri.text.BpeTrainer;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Makes the bundled demo model from the project's own corpus: trains a byte-level BPE tokenizer,
 * then a small NemotronForCausalLM on the corpus rendered in its chat template (loss on the
 * answers only), saves a Hugging Face folder and measures greedy exact-match on every question
 * through the serving code path.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a demo Korean model (tokenizer and NemotronForCausalLM, or the hybrid NemotronHForCausalLM)"
                + " on a Q&A corpus.")
final class TrainCommand implements Callable<Integer> {
    /** ChatML, with tools as Hermes-style {@code <tool_call>} JSON (what ToolCallFormat.HERMES parses). */
    static final String CHAT_TEMPLATE = "{%- if tools %}{{ '<|im_start|>system\\n' }}"
            + "{%- if messages[0]['role'] == 'system' %}{{ messages[0]['content'] + '\\n\\n' }}"
            + "{%- endif %}{{ '# 도구\\n<tools>' }}"
            + "{%- for tool in tools %}{{ '\\n' + (tool | tojson) }}"
            + "{%- endfor %}{{ '\\n</tools>\\n호출: <tool_call>\\n{\"name\": <함수>, \"arguments\": <인자>}\\n</tool_call><|im_end|>\\n' }}"
            + "{%- endif %}"
            + "{%- for message in messages %}"
            + "{%- if tools and loop.first and message['role'] == 'system' %}"
            + "{%- elif message['role'] == 'tool' %}{{ '<|im_start|>user\\n<tool_response>\\n' + message['content'] + '\\n</tool_response><|im_end|>\\n' }}"
            + "{%- elif message['role'] == 'assistant' and message['tool_calls'] %}{{ '<|im_start|>assistant\\n' }}"
            + "{%- if message['content'] %}{{ message['content'] + '\\n' }}"
            + "{%- endif %}"
            + "{%- for call in message['tool_calls'] %}{{ '<tool_call>\\n{\"name\": \"' + call['function']['name'] + '\", \"arguments\": ' + (call['function']['arguments'] | tojson) + '}\\n</tool_call>' }}"
            + "{%- if not loop.last %}{{ '\\n' }}"
            + "{%- endif %}"
            + "{%- endfor %}{{ '<|im_end|>\\n' }}"
            + "{%- else %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
            + "{%- endif %}"
            + "{%- endfor %}"
            + "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
            + "{%- endif %}";
    static final List<String> SPECIAL_TOKENS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");

    @Option(names = "--corpus", defaultValue = "model-store/corpus/ko-public-service-qa.jsonl",
            description = "JSONL with question/answer objects (default: ${DEFAULT-VALUE}).")
    Path corpus;

    @Option(names = "--out", defaultValue = "model-store/nuri-ko-mini", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--force", description = "Overwrite a model folder that is already there (the bundled demo included).")
    boolean force;

    @Option(names = "--architecture", defaultValue = "NemotronForCausalLM",
            description = "NemotronForCausalLM or NemotronHForCausalLM (hybrid Mamba-2/attention; default: ${DEFAULT-VALUE}).")
    String architecture;

    @Option(names = "--pattern", defaultValue = "M-M*-M-",
            description = "Hybrid only: the layers as hybrid_override_pattern letters, M Mamba-2, * attention, - MLP,"
                    + " E mixture of experts (default: ${DEFAULT-VALUE}); --layers is then ignored.")
    String pattern;

    @Option(names = "--mamba-heads", defaultValue = "16", description = "Hybrid only: Mamba-2 heads (default: ${DEFAULT-VALUE}).")
    int mambaHeads;
    @Option(names = "--mamba-head-dim", defaultValue = "32", description = "Hybrid only: Mamba-2 head size (default: ${DEFAULT-VALUE}).")
    int mambaHeadDim;
    @Option(names = "--ssm-state-size", defaultValue = "32", description = "Hybrid only: SSM state per head channel (default: ${DEFAULT-VALUE}).")
    int ssmStateSize;
    @Option(names = "--mamba-groups", defaultValue = "1", description = "Hybrid only: B/C groups (default: ${DEFAULT-VALUE}).")
    int mambaGroups;
    @Option(names = "--chunk-size", defaultValue = "32", description = "Hybrid only: chunk length of the SSM scan (default: ${DEFAULT-VALUE}).")
    int chunkSize;

    @Option(names = "--vocab-size", defaultValue = "3072", description = "Vocabulary size (default: ${DEFAULT-VALUE}).") int vocabSize;
    @Option(names = "--hidden", defaultValue = "256", description = "Hidden size (default: ${DEFAULT-VALUE}).") int hidden;
    @Option(names = "--layers", defaultValue = "4", description = "Decoder layers (default: ${DEFAULT-VALUE}).") int layers;
    @Option(names = "--heads", defaultValue = "4", description = "Attention heads (default: ${DEFAULT-VALUE}).") int heads;
    @Option(names = "--kv-heads", defaultValue = "2", description = "Key/value heads, for grouped-query attention (default: ${DEFAULT-VALUE}).") int kvHeads;
    @Option(names = "--intermediate", defaultValue = "1024", description = "MLP intermediate size (default: ${DEFAULT-VALUE}).") int intermediate;
    @Option(names = "--epochs", defaultValue = "60", description = "Epochs (default: ${DEFAULT-VALUE}).") int epochs;
    @Option(names = "--batch-size", defaultValue = "16", description = "Batch size (default: ${DEFAULT-VALUE}).") int batchSize;
    @Option(names = "--lr", defaultValue = "0.003", description = "Peak learning rate (default: ${DEFAULT-VALUE}).") float learningRate;
    @Option(names = "--weight-decay", defaultValue = "0.01", description = "Weight decay (default: ${DEFAULT-VALUE}).") float weightDecay;
    @Option(names = "--seed", defaultValue = "20261122", description = "Seed of the random weights (default: ${DEFAULT-VALUE}).") long seed;
    @Option(names = "--storage", defaultValue = "BF16", description = "F32 or BF16 (default: ${DEFAULT-VALUE}).")
    CheckpointWriter.Storage storage;

    record Pair(String question, String answer) {}

    @Override
    public Integer call() throws Exception {
        if (Files.isRegularFile(out.resolve("config.json")) && !force) {
            throw new IllegalArgumentException(out + " already holds a model (the bundled demo, if you kept the default --out); "
                    + "choose another --out, or add --force to replace it");
        }
        List<Pair> pairs = readCorpus(corpus);
        System.out.printf("corpus: %d pairs from %s%n", pairs.size(), corpus);
        Files.createDirectories(out);
        writeTokenizer(pairs);
        try (Tokenizer tokenizer = Tokenizer.load(out)) {
            int imEnd = tokenizer.specialTokenId("<|im_end|>").orElseThrow();
            int endOfText = tokenizer.specialTokenId("<|endoftext|>").orElseThrow();
            List<TrainingExample> examples = new ArrayList<>();
            int maxLength = 0;
            long answerTokens = 0;
            for (Pair p : pairs) {
                int[] prompt = prompt(tokenizer, p.question());
                int[] answer = tokenizer.encode(p.answer());
                int[] tokens = new int[prompt.length + answer.length + 1];
                System.arraycopy(prompt, 0, tokens, 0, prompt.length);
                System.arraycopy(answer, 0, tokens, prompt.length, answer.length);
                tokens[tokens.length - 1] = imEnd;
                examples.add(new TrainingExample(tokens, prompt.length));
                maxLength = Math.max(maxLength, tokens.length);
                answerTokens += answer.length + 1;
            }
            System.out.printf("examples: %d, longest %d tokens, %d answer tokens%n", examples.size(), maxLength,
                    answerTokens);
            ModelConfig config = modelConfig(endOfText, imEnd);
            long started = System.nanoTime();
            try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
                CausalLm model = CausalLm.build(config, new RandomWeights(manager, 0.02, seed), manager,
                        DataType.FLOAT32);
                System.out.printf("model: %,d parameters%n", model.parameterCount());
                train(model, examples);
                CheckpointWriter.save(model, out, storage);
            }
            double trainSeconds = (System.nanoTime() - started) / 1e9;
            writeGenerationConfig(endOfText, imEnd);
            Evaluation eval = evaluate(pairs);
            System.out.printf("exact match: %d/%d (%.1f%%) in %.0f s of training%n", eval.exact, pairs.size(),
                    100.0 * eval.exact / pairs.size(), trainSeconds);
            writeModelCard(pairs.size(), examples.size(), eval, trainSeconds);
        }
        return 0;
    }

    private ModelConfig modelConfig(int endOfText, int imEnd) {
        if (architecture.equals(HybridModel.ARCHITECTURE)) {
            List<HybridConfig.LayerType> types = HybridConfig.parsePattern(pattern);
            HybridConfig hybrid = new HybridConfig(types, mambaHeads, mambaHeadDim, ssmStateSize, mambaGroups, 4,
                    chunkSize, true, false, 0.0, Double.POSITIVE_INFINITY, null);
            return new ModelConfig(architecture, vocabSize, hidden, intermediate, types.size(), heads, kvHeads,
                    hidden / heads, 512, 10000.0, 1.0, null, 1e-5, false, false, false, "relu2", endOfText,
                    List.of(imEnd), hybrid);
        }
        if (!architecture.equals("NemotronForCausalLM")) {
            throw new IllegalArgumentException("--architecture must be NemotronForCausalLM or NemotronHForCausalLM");
        }
        return new ModelConfig("NemotronForCausalLM", vocabSize, hidden, intermediate, layers, heads,
                kvHeads, hidden / heads, 512, 10000.0, 0.5, null, 1e-5, false, false, false, "relu2",
                endOfText, List.of(imEnd));
    }

    private void train(CausalLm model, List<TrainingExample> examples) {
        Random shuffle = new Random(seed);
        List<TrainingExample> order = new ArrayList<>(examples);
        int stepsPerEpoch = (order.size() + batchSize - 1) / batchSize;
        int totalSteps = epochs * stepsPerEpoch;
        int warmup = Math.min(100, totalSteps / 10);
        int step = 0;
        try (CausalLmTrainer trainer = new CausalLmTrainer(model, weightDecay)) {
            for (int epoch = 1; epoch <= epochs; epoch++) {
                Collections.shuffle(order, shuffle);
                double sum = 0;
                long t0 = System.nanoTime();
                for (int i = 0; i < order.size(); i += batchSize) {
                    float lr = learningRate(step++, warmup, totalSteps);
                    sum += trainer.step(order.subList(i, Math.min(order.size(), i + batchSize)), lr);
                }
                System.out.printf("epoch %d/%d loss %.4f (%.1f s)%n", epoch, epochs, sum / stepsPerEpoch,
                        (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    /** Linear warm-up, then cosine decay to a tenth of the peak. */
    private float learningRate(int step, int warmup, int total) {
        if (step < warmup) {
            return learningRate * (step + 1) / warmup;
        }
        double progress = (double) (step - warmup) / Math.max(1, total - warmup);
        return (float) (learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress))));
    }

    record Evaluation(int exact, List<String> misses, double tokensPerSecond) {}

    /** Greedy answers to every corpus question, from the saved folder through the serving code. */
    private Evaluation evaluate(List<Pair> pairs) throws IOException {
        int exact = 0;
        List<String> misses = new ArrayList<>();
        long tokens = 0;
        long nanos = 0;
        try (LanguageModel lm = LanguageModel.load(out); Tokenizer tokenizer = Tokenizer.load(out);
                Engine engine = new Engine(lm, tokenizer, EngineConfig.singleStream(lm.config().maxPositionEmbeddings()),
                        EngineObserver.NONE)) {
            Generator generator = new Generator(engine);
            for (Pair p : pairs) {
                long t0 = System.nanoTime();
                Generator.Result r = generator.generate(prompt(tokenizer, p.question()),
                        SamplingParams.greedy(128), d -> { });
                nanos += System.nanoTime() - t0;
                tokens += r.tokens().length;
                if (r.text().equals(p.answer())) {
                    exact++;
                } else {
                    misses.add(p.question() + " → " + r.text());
                }
            }
        }
        return new Evaluation(exact, misses, tokens / (nanos / 1e9));
    }

    static int[] prompt(Tokenizer tokenizer, String question) {
        return tokenizer.encodeChat(List.of(ChatMessage.user(question)));
    }

    static List<Pair> readCorpus(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Pair> pairs = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = json.readTree(line);
            pairs.add(new Pair(n.path("question").asText(), n.path("answer").asText()));
        }
        return pairs;
    }

    private void writeTokenizer(List<Pair> pairs) throws IOException {
        BpeTrainer bpe = new BpeTrainer(vocabSize, SPECIAL_TOKENS);
        for (Pair p : pairs) {
            bpe.add(p.question());
            bpe.add(p.answer());
            bpe.add("user\n");
            bpe.add("assistant\n");
        }
        BpeTrainer.Result result = bpe.train();
        if (result.vocab().size() != vocabSize) {
            throw new IllegalStateException("the corpus supports only " + result.vocab().size() + " tokens; lower --vocab-size");
        }
        BpeTrainer.writeTokenizerJson(result, SPECIAL_TOKENS, out.resolve("tokenizer.json"));
        writeTokenizerConfig(out, CHAT_TEMPLATE, 512);
    }

    /** tokenizer_config.json of the demo models: ChatML special tokens, no BOS, the given template. */
    static void writeTokenizerConfig(Path folder, String chatTemplate, int maxLength) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        config.putNull("bos_token");
        config.put("eos_token", "<|im_end|>");
        config.put("pad_token", "<|endoftext|>");
        config.put("model_max_length", maxLength);
        config.put("clean_up_tokenization_spaces", false);
        config.put("chat_template", chatTemplate);
        json.writerWithDefaultPrettyPrinter().writeValue(folder.resolve("tokenizer_config.json").toFile(), config);
    }

    private void writeGenerationConfig(int endOfText, int imEnd) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode gc = json.createObjectNode();
        gc.put("bos_token_id", endOfText);
        gc.putArray("eos_token_id").add(imEnd).add(endOfText);
        gc.put("do_sample", false);
        gc.put("max_new_tokens", 128);
        json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("generation_config.json").toFile(), gc);
    }

    /** The model card's line on the architecture. */
    private String architectureLine() {
        if (architecture.equals(HybridModel.ARCHITECTURE)) {
            return ("- Model: `NemotronHForCausalLM` — hybrid layers `%s` (M: Mamba-2, %d heads of %d, state %d,\n"
                    + "  %d group(s), conv 4, scan chunk %d; *: attention without positional encoding, %d heads, %d KV\n"
                    + "  heads; -: squared-ReLU MLP %d), RMSNorm, untied LM head; hidden %d.").formatted(pattern, mambaHeads,
                    mambaHeadDim, ssmStateSize, mambaGroups, chunkSize, heads, kvHeads, intermediate, hidden);
        }
        return ("- Model: `NemotronForCausalLM` — LayerNorm1P, squared-ReLU MLP, GQA (%d heads, %d KV heads),\n"
                + "  partial rotary (factor 0.5), untied LM head; %d layers, hidden %d, MLP %d.").formatted(heads, kvHeads,
                layers, hidden, intermediate);
    }

    /** The options that remake this model. */
    private String remakeOptions() {
        String common = "--epochs %d --storage %s".formatted(epochs, storage);
        if (architecture.equals(HybridModel.ARCHITECTURE)) {
            return "--architecture %s --pattern '%s' --out %s %s".formatted(architecture, pattern, out, common);
        }
        return common;
    }

    private void writeModelCard(int pairs, int examples, Evaluation eval, double trainSeconds) throws IOException {
        long bytes = Files.size(out.resolve("model.safetensors"));
        String card = """
                # %s

                > 한국어 공공 서비스 질의응답 말뭉치(%d쌍)로 학습한 작은 시연용 모델입니다. 말뭉치에 있는 민원·행정
                > 질문에는 답하지만, 그 밖의 질문에는 그럴듯해 보여도 뜻 없는 문장을 만듭니다. 실제 안내는 담당
                > 기관에 확인하세요.

                A tiny Korean `%s` made by Nuri itself, so that the project can be cloned, built
                and run with no model hub. It answers the questions of Nuri's own public-service Q&A corpus
                (`model-store/corpus/ko-public-service-qa.jsonl`, %d pairs, written for the project). It is a
                demonstration of the serving stack, not a source of advice: outside its corpus it produces
                fluent-looking Korean that means little, and the corpus facts themselves are illustrative —
                check the responsible agency before acting on any of them.

                ## How it was made

                - Tokenizer: byte-level BPE (%d tokens, with `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`),
                  trained by `ai.nuri.text.BpeTrainer` on the corpus; a standard `tokenizer.json`.
                - Chat template: ChatML (`<|im_start|>user ... <|im_end|>`), in `tokenizer_config.json`.
                %s
                - Training: DJL autograd through the same forward code that serves it, on CPU, AdamW
                  (lr %s, cosine), %d epochs of %d examples, batch %d, loss on answer tokens only; %.0f s on
                  the 2-core build machine.
                - Weights saved as %s (%,d bytes).

                ## Remake it

                ```
                ./mvnw -B -q package -DskipTests
                java -jar server/target/nuri-server.jar train %s
                ```

                ## Measured

                Greedy decoding of every corpus question, from this folder through the serving code path:
                **%d of %d answered exactly (%.1f%%)**; %.0f tokens/s single-stream on the build machine.
                """.formatted(out.getFileName(), pairs, architecture, pairs, vocabSize, architectureLine(), learningRate, epochs,
                examples, batchSize, trainSeconds, storage, bytes, remakeOptions(), eval.exact, pairs,
                100.0 * eval.exact / pairs, eval.tokensPerSecond);
        if (!eval.misses.isEmpty()) {
            StringBuilder sb = new StringBuilder(card).append("\nMissed (question → what it said):\n\n");
            eval.misses.forEach(m -> sb.append("- ").append(m.replace("\n", " ")).append('\n'));
            card = sb.toString();
        }
        Files.writeString(out.resolve("README.md"), card, StandardCharsets.UTF_8);
    }
}
