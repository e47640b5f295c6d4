package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** Multi-head self-attention with grouped key/value heads and rotary positions. */
public record SelfAttention(Projection q, Projection k, Projection v, Projection o, int heads, int kvHeads,
        int headDim) {

    static SelfAttention load(WeightSource w, String prefix, ModelConfig c) {
        long qDim = (long) c.numHeads() * c.headDim();
        long kvDim = (long) c.numKvHeads() * c.headDim();
        boolean bias = c.attentionBias();
        return new SelfAttention(
                Projection.load(w, prefix + ".q_proj", c.hiddenSize(), qDim, bias),
                Projection.load(w, prefix + ".k_proj", c.hiddenSize(), kvDim, bias),
                Projection.load(w, prefix + ".v_proj", c.hiddenSize(), kvDim, bias),
                Projection.load(w, prefix + ".o_proj", qDim, c.hiddenSize(), bias),
                c.numHeads(), c.numKvHeads(), c.headDim());
    }

    /**
     * {@code rope} null: no positional encoding (NemotronH's attention layers, whose Mamba layers
     * carry position). Queries, keys and values stay flat rows ([T, heads * headDim]); the kernel
     * shapes them as its layout needs.
     */
    public NDArray forward(NDArray x, RotaryEmbedding.Angles rope, Kernels kernels, int layer) {
        Linears linears = kernels.linears();
        NDArray queries = q.apply(x, linears);
        NDArray keys = k.apply(x, linears);
        if (rope != null) {
            queries = rope.apply(queries, heads, kernels.inference());
            keys = rope.apply(keys, kvHeads, kernels.inference());
        }
        NDArray attended = kernels.attention().attend(layer, queries, keys, v.apply(x, linears),
                new AttentionKernel.Heads(heads, kvHeads, headDim));
        return o.apply(attended, linears);
    }
}
