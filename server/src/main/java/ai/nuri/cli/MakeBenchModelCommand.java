package ai.nuri.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.CheckpointWriter;
import ai.nuri.model.CausalLm;
import ai.nuri.model.HybridConfig;
import ai.nuri.model.HybridModel;
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
        description = "Write a random-weight model of about 100M parameters for benchmarks: NemotronForCausalLM,"
                + " LlamaForCausalLM, or the hybrid Mamba-2/attention NemotronHForCausalLM.")
final class MakeBenchModelCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "target/nuri-bench-100m", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--tokenizer-from", description = "Folder whose tokenizer files are copied (default: the demo model).")
    Path tokenizerFrom;

    @Option(names = "--architecture", defaultValue = "NemotronForCausalLM",
            description = "NemotronForCausalLM, LlamaForCausalLM or NemotronHForCausalLM (default: ${DEFAULT-VALUE}).")
    String architecture;

    @Option(names = "--pattern", defaultValue = "M-M-M-M*-M-M-M-M-",
            description = "NemotronH only: layers as hybrid_override_pattern letters (M Mamba-2, * attention, - MLP,"
                    + " E mixture of experts); the default has one attention layer per nine mixers, like Nemotron-H"
                    + " (default: ${DEFAULT-VALUE}); --layers is then ignored.")
    String pattern;

    @Option(names = "--mamba-head-dim", defaultValue = "64", description = "NemotronH only: Mamba-2 head size; heads = 2 * hidden / this (default: ${DEFAULT-VALUE}).")
    int mambaHeadDim;
    @Option(names = "--ssm-state-size", defaultValue = "128", description = "NemotronH only (default: ${DEFAULT-VALUE}).")
    int ssmStateSize;
    @Option(names = "--mamba-groups", defaultValue = "8", description = "NemotronH only: B/C groups (default: ${DEFAULT-VALUE}).")
    int mambaGroups;
    @Option(names = "--chunk-size", defaultValue = "128", description = "NemotronH only: SSM scan chunk (default: ${DEFAULT-VALUE}).")
    int chunkSize;
    @Option(names = "--experts", defaultValue = "8", description = "NemotronH E layers: routed experts (default: ${DEFAULT-VALUE}).")
    int experts;
    @Option(names = "--experts-per-token", defaultValue = "2", description = "NemotronH E layers (default: ${DEFAULT-VALUE}).")
    int expertsPerToken;
    @Option(names = "--moe-intermediate", defaultValue = "768", description = "NemotronH E layers: expert and shared-expert MLP size (default: ${DEFAULT-VALUE}).")
    int moeIntermediate;
    @Option(names = "--vocab-size", defaultValue = "16384", description = "Vocabulary size (default: ${DEFAULT-VALUE}).") int vocabSize;
    @Option(names = "--hidden", defaultValue = "768", description = "Hidden size (default: ${DEFAULT-VALUE}).") int hidden;
    @Option(names = "--layers", defaultValue = "12", description = "Decoder layers (default: ${DEFAULT-VALUE}).") int layers;
    @Option(names = "--heads", defaultValue = "12", description = "Attention heads (default: ${DEFAULT-VALUE}).") int heads;
    @Option(names = "--kv-heads", defaultValue = "4", description = "Key/value heads, for grouped-query attention (default: ${DEFAULT-VALUE}).") int kvHeads;
    @Option(names = "--intermediate", defaultValue = "3072", description = "MLP intermediate size (default: ${DEFAULT-VALUE}).") int intermediate;
    @Option(names = "--max-positions", defaultValue = "4096", description = "max_position_embeddings: the longest context (default: ${DEFAULT-VALUE}).") int maxPositions;
    @Option(names = "--storage", defaultValue = "BF16", description = "Weight storage in the checkpoint: BF16, F16 or F32 (default: ${DEFAULT-VALUE}).") CheckpointWriter.Storage storage;
    @Option(names = "--seed", defaultValue = "7", description = "Seed of the random weights (default: ${DEFAULT-VALUE}).") long seed;

    @Override
    public Integer call() throws Exception {
        Path source = tokenizerFrom != null ? tokenizerFrom : Runtime.defaultModel();
        ModelConfig config = config();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            CausalLm model = CausalLm.build(config, new RandomWeights(manager, 0.02, seed), manager, DataType.FLOAT32);
            CheckpointWriter.save(model, out, storage);
            System.out.printf("%s: %s, %,d parameters, %s%n", out, architecture, model.parameterCount(), storage);
        }
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
            if (Files.isRegularFile(source.resolve(f))) {
                Files.copy(source.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return 0;
    }

    private ModelConfig config() {
        if (architecture.equals(HybridModel.ARCHITECTURE)) {
            List<HybridConfig.LayerType> types = HybridConfig.parsePattern(pattern);
            HybridConfig.Moe moe = types.contains(HybridConfig.LayerType.MOE)
                    ? new HybridConfig.Moe(experts, expertsPerToken, moeIntermediate, moeIntermediate, null, 1, 1, true, 1.0)
                    : null;
            HybridConfig hybrid = new HybridConfig(types, 2 * hidden / mambaHeadDim, mambaHeadDim, ssmStateSize,
                    mambaGroups, 4, chunkSize, true, false, 0.0, Double.POSITIVE_INFINITY, moe);
            return new ModelConfig(architecture, vocabSize, hidden, intermediate, types.size(), heads, kvHeads,
                    hidden / heads, maxPositions, 10000.0, 1.0, null, 1e-5, false, false, false, "relu2", 0, List.of(2),
                    hybrid);
        }
        boolean nemotron = architecture.equals("NemotronForCausalLM");
        return new ModelConfig(architecture, vocabSize, hidden, intermediate, layers, heads, kvHeads,
                hidden / heads, maxPositions, 10000.0, nemotron ? 0.5 : 1.0, null, 1e-5, false, false, false,
                nemotron ? "relu2" : "silu", 0, List.of(2));
    }
}
