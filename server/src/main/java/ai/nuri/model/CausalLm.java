package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Map;

/**
 * A causal language model's forward pass, whatever its layers: the transformer decoders
 * ({@link DecoderModel}) and the hybrid Mamba/attention NemotronH ({@link HybridModel}). Serving,
 * training and the checkpoint writer see only this.
 */
public interface CausalLm extends AutoCloseable {
    /**
     * The forward pass over a step's T tokens.
     *
     * @param tokens    [T] token ids (INT64)
     * @param positions [T] the position of each token in its sequence (INT64)
     * @return [T, hidden] final-normed hidden states
     */
    NDArray hiddenStates(NDArray tokens, NDArray positions, Kernels kernels);

    /** [T] token ids to their [T, hidden] input embeddings. */
    NDArray embed(NDArray tokens);

    /**
     * The forward pass from input embeddings, so that a multimodal model can put image features
     * where its image tokens are before the decoder runs.
     */
    NDArray hiddenStatesFromEmbeddings(NDArray embedded, NDArray positions, Kernels kernels);

    /** [N, hidden] hidden states to [N, vocab] logits. */
    NDArray logits(NDArray hidden);

    /** As {@link #logits(NDArray)}, multiplied by {@code linears} (serving: the step's choice). */
    NDArray logits(NDArray hidden, Linears linears);

    ModelConfig config();

    DataType dtype();

    NDManager manager();

    /** Every weight by its Hugging Face name (a tied LM head appears once, as the embedding). */
    Map<String, NDArray> parameters();

    default long parameterCount() {
        return parameters().values().stream().mapToLong(a -> a.getShape().size()).sum();
    }

    /** How many layers keep keys and values in the KV cache. */
    int attentionLayers();

    /** How many layers keep recurrent state (0 for a pure transformer). */
    int recurrentLayers();

    @Override
    void close();

    /** Builds the model {@code c} describes; every tensor lands in {@code manager}, which the model owns. */
    static CausalLm build(ModelConfig c, WeightSource weights, NDManager manager, DataType dtype) {
        return c.isHybrid() ? HybridModel.build(c, weights, manager, dtype)
                : DecoderModel.build(c, weights, manager, dtype);
    }
}
