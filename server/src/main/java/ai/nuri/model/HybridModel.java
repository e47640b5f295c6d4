package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NemotronHForCausalLM (Nemotron-H, Nemotron Nano 2, Nemotron 3 Nano): a stack of pre-norm
 * residual blocks, each with one mixer: Mamba-2, attention (no positional encoding: the Mamba
 * layers carry order), a squared-ReLU MLP or a mixture of experts. The whole forward pass is
 * {@link #hiddenStates}. Weights are read under {@code model.*} as transformers saves them, or under
 * {@code backbone.*} as NVIDIA ships them.
 */
public final class HybridModel implements CausalLm {
    public static final String ARCHITECTURE = "NemotronHForCausalLM";

    /** A block's mixer applied to its normed input. */
    private interface Mixer {
        NDArray apply(NDArray x, Kernels kernels);
    }

    private record Block(Norm norm, Mixer mixer) {}

    private final ModelConfig config;
    private final NDManager manager;
    private final DataType dtype;
    private final NDArray embeddings;
    private final List<Block> blocks;
    private final Norm finalNorm;
    private final NDArray lmHead;
    private final Map<String, NDArray> parameters;

    private HybridModel(ModelConfig config, NDManager manager, DataType dtype, NDArray embeddings, List<Block> blocks,
            Norm finalNorm, NDArray lmHead, Map<String, NDArray> parameters) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.embeddings = embeddings;
        this.blocks = blocks;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.parameters = parameters;
    }

    @Override
    public NDArray hiddenStates(NDArray tokens, NDArray positions, Kernels kernels) {
        return hiddenStatesFromEmbeddings(embed(tokens), positions, kernels);
    }

    @Override
    public NDArray embed(NDArray tokens) {
        return embeddings.get(tokens);
    }

    @Override
    public NDArray hiddenStatesFromEmbeddings(NDArray embedded, NDArray positions, Kernels kernels) {
        NDArray x = embedded;
        for (Block b : blocks) {
            x = x.add(b.mixer.apply(b.norm.apply(x), kernels));
        }
        return finalNorm.apply(x);
    }

    @Override
    public NDArray logits(NDArray hidden) {
        return Linears.TORCH.apply(hidden, lmHead);
    }

    @Override
    public NDArray logits(NDArray hidden, Linears linears) {
        return linears.apply(hidden, lmHead);
    }

    public static HybridModel build(ModelConfig c, WeightSource weights, NDManager manager, DataType dtype) {
        if (!c.hiddenAct().equals("relu2")) {
            throw new IllegalArgumentException("NemotronH mlp_hidden_act '" + c.hiddenAct() + "' is not supported (relu2 is)");
        }
        Map<String, NDArray> params = new LinkedHashMap<>();
        WeightSource recording = new WeightSource() {
            public NDArray tensor(String name, Shape shape, Init init) {
                NDArray t = weights.tensor(name, shape, init);
                params.put(name, t);
                return t;
            }

            public boolean contains(String name) {
                return weights.contains(name);
            }
        };
        String root = weights.contains("backbone.embeddings.weight") ? "backbone" : "model";
        NDArray embed = recording.tensor(root + ".embeddings.weight", new Shape(c.vocabSize(), c.hiddenSize()),
                WeightSource.Init.NORMAL);
        List<Block> blocks = new ArrayList<>();
        int attention = 0;
        int mamba = 0;
        for (int i = 0; i < c.numLayers(); i++) {
            String p = root + ".layers." + i;
            Norm norm = RmsNorm.load(recording, p + ".norm", c);
            String m = p + ".mixer";
            Mixer mixer = switch (c.hybrid().layers().get(i)) {
                case MAMBA -> {
                    Mamba2Mixer mm = Mamba2Mixer.load(recording, m, c, mamba++);
                    yield (x, k) -> mm.forward(x, k);
                }
                case ATTENTION -> {
                    SelfAttention sa = SelfAttention.load(recording, m, c);
                    int kvLayer = attention++;
                    yield (x, k) -> sa.forward(x, null, k, kvLayer);
                }
                case MLP -> {
                    SquaredReluMlp mlp = SquaredReluMlp.load(recording, m, c);
                    yield (x, k) -> mlp.apply(x, k);
                }
                case MOE -> {
                    MoeMlp moe = MoeMlp.load(recording, m, c);
                    yield (x, k) -> moe.apply(x);
                }
            };
            blocks.add(new Block(norm, mixer));
        }
        Norm finalNorm = RmsNorm.load(recording, root + ".norm_f", c);
        NDArray head = c.tieWordEmbeddings() ? embed
                : recording.tensor("lm_head.weight", new Shape(c.vocabSize(), c.hiddenSize()), WeightSource.Init.NORMAL);
        return new HybridModel(c, manager, dtype, embed, List.copyOf(blocks), finalNorm, head,
                Collections.unmodifiableMap(params));
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public DataType dtype() {
        return dtype;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public Map<String, NDArray> parameters() {
        return parameters;
    }

    @Override
    public int attentionLayers() {
        return (int) config.hybrid().count(HybridConfig.LayerType.ATTENTION);
    }

    @Override
    public int recurrentLayers() {
        return (int) config.hybrid().count(HybridConfig.LayerType.MAMBA);
    }

    @Override
    public void close() {
        manager.close();
    }
}
