package ai.nuri.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.CheckpointWriter;
import ai.nuri.model.DecoderModel;
import ai.nuri.model.ModelConfig;
import ai.nuri.model.RandomWeights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Writes a random-weight model of a realistic size for benchmarks (~100M parameters by default),
 * with the demo model's tokenizer so it can be served. Its text is meaningless; its speed is not.
 */
@Command(name = "make-bench-model", mixinStandardHelpOptions = true,
        description = "Write a random-weight NemotronForCausalLM (~100M parameters) for benchmarks.")
final class MakeBenchModelCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "target/nuri-bench-100m", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--tokenizer-from", description = "Folder whose tokenizer files are copied (default: the demo model).")
    Path tokenizerFrom;

    @Option(names = "--architecture", defaultValue = "NemotronForCausalLM") String architecture;
    @Option(names = "--vocab-size", defaultValue = "16384") int vocabSize;
    @Option(names = "--hidden", defaultValue = "768") int hidden;
    @Option(names = "--layers", defaultValue = "12") int layers;
    @Option(names = "--heads", defaultValue = "12") int heads;
    @Option(names = "--kv-heads", defaultValue = "4") int kvHeads;
    @Option(names = "--intermediate", defaultValue = "3072") int intermediate;
    @Option(names = "--max-positions", defaultValue = "4096") int maxPositions;
    @Option(names = "--storage", defaultValue = "BF16") CheckpointWriter.Storage storage;
    @Option(names = "--seed", defaultValue = "7") long seed;

    @Override
    public Integer call() throws Exception {
        Path source = tokenizerFrom != null ? tokenizerFrom : Runtime.defaultModel();
        boolean nemotron = architecture.equals("NemotronForCausalLM");
        ModelConfig config = new ModelConfig(architecture, vocabSize, hidden, intermediate, layers, heads, kvHeads,
                hidden / heads, maxPositions, 10000.0, nemotron ? 0.5 : 1.0, null, 1e-5, false, false, false,
                nemotron ? "relu2" : "silu", 0, List.of(2));
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            DecoderModel model = DecoderModel.build(config, new RandomWeights(manager, 0.02, seed), manager,
                    DataType.FLOAT32);
            CheckpointWriter.save(model, out, storage);
            System.out.printf("%s: %,d parameters, %s%n", out, model.parameterCount(), storage);
        }
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
            if (Files.isRegularFile(source.resolve(f))) {
                Files.copy(source.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return 0;
    }
}
