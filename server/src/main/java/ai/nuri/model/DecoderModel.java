package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The decoder-only transformer shared by every architecture. The whole forward pass is
 * {@link #hiddenStates}: embed, the layers, the final norm; {@link #logits} applies the LM head.
 * Which keys each query sees is the {@link AttentionKernel}'s business, so training (dense causal)
 * and serving (paged KV cache) run this same code.
 */
public final class DecoderModel implements CausalLm {
    private final ModelConfig config;
    private final NDManager manager;
    private final DataType dtype;
    private final NDArray embeddings;
    private final List<DecoderLayer> layers;
    private final Norm finalNorm;
    private final NDArray lmHead;
    private final RotaryEmbedding rotary;
    private final Map<String, NDArray> parameters;

    private DecoderModel(ModelConfig config, NDManager manager, DataType dtype, NDArray embeddings,
            List<DecoderLayer> layers, Norm finalNorm, NDArray lmHead, RotaryEmbedding rotary,
            Map<String, NDArray> parameters) {
        this.config = config;
        this.manager = manager;
        this.dtype = dtype;
        this.embeddings = embeddings;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.rotary = rotary;
        this.parameters = parameters;
    }

    /**
     * Builds the model from {@code weights}; every tensor lands in {@code manager}, which the model
     * owns and closes.
     */
    public static DecoderModel build(ModelConfig c, WeightSource weights, NDManager manager, DataType dtype) {
        Architecture arch = Architecture.forName(c.architecture());
        arch.validate(c);
        Map<String, NDArray> params = new LinkedHashMap<>();
        WeightSource recording = (name, shape, init) -> {
            NDArray t = weights.tensor(name, shape, init);
            params.put(name, t);
            return t;
        };
        NDArray embed = recording.tensor("model.embed_tokens.weight", new Shape(c.vocabSize(), c.hiddenSize()),
                WeightSource.Init.NORMAL);
        List<DecoderLayer> layers = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i;
            layers.add(new DecoderLayer(
                    arch.norm(recording, p + ".input_layernorm", c),
                    SelfAttention.load(recording, p + ".self_attn", c),
                    arch.norm(recording, p + ".post_attention_layernorm", c),
                    arch.mlp(recording, p + ".mlp", c)));
        }
        Norm norm = arch.norm(recording, "model.norm", c);
        NDArray head = c.tieWordEmbeddings() ? embed
                : recording.tensor("lm_head.weight", new Shape(c.vocabSize(), c.hiddenSize()), WeightSource.Init.NORMAL);
        return new DecoderModel(c, manager, dtype, embed, List.copyOf(layers), norm, head, arch.rotary(c),
                Collections.unmodifiableMap(params));
    }

    /**
     * The forward pass over a step's T tokens.
     *
     * @param tokens    [T] token ids (INT64)
     * @param positions [T] the position of each token in its sequence (INT64)
     * @return [T, hidden] final-normed hidden states
     */
    public NDArray hiddenStates(NDArray tokens, NDArray positions, AttentionKernel attention) {
        return hiddenStatesFromEmbeddings(embed(tokens), positions, new Kernels(attention, RecurrentKernel.NONE));
    }

    @Override
    public NDArray embed(NDArray tokens) {
        return Rows.take(embeddings, tokens);
    }

    @Override
    public NDArray hiddenStatesFromEmbeddings(NDArray embedded, NDArray positions, Kernels kernels) {
        AttentionKernel attention = kernels.attention();
        RotaryEmbedding.Angles rope = rotary.angles(positions, dtype, config.headDim(), config.numHeads(),
                config.numKvHeads());
        NDArray x = embedded;
        for (int i = 0; i < layers.size(); i++) {
            // Each layer's temporaries are freed when it ends: a step's memory does not grow with depth.
            NDArray next;
            try (NDScope layer = new NDScope()) {
                next = layers.get(i).forward(x, rope, kernels, i);
                NDScope.unregister(next);
            }
            NDScope.register(next);
            x = next;
        }
        return finalNorm.apply(x);
    }

    @Override
    public NDArray hiddenStates(NDArray tokens, NDArray positions, Kernels kernels) {
        return hiddenStatesFromEmbeddings(embed(tokens), positions, kernels);
    }

    @Override
    public int attentionLayers() {
        return config.numLayers();
    }

    @Override
    public int recurrentLayers() {
        return 0;
    }

    @Override
    public NDArray logits(NDArray hidden) {
        return Linears.TORCH.apply(hidden, lmHead);
    }

    @Override
    public NDArray logits(NDArray hidden, Linears linears) {
        return linears.apply(hidden, lmHead);
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
    public void close() {
        manager.close();
    }
}
