package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** A pre-norm decoder layer: x + attn(norm(x)), then h + mlp(norm(h)). */
public record DecoderLayer(Norm inputNorm, SelfAttention attention, Norm postAttentionNorm, Mlp mlp) {

    /** {@code kernels.inference()}: the residual sums go into x itself, which the caller gives up. */
    public NDArray forward(NDArray x, RotaryEmbedding.Angles rope, Kernels kernels, int index) {
        boolean inference = kernels.inference();
        NDArray attended = attention.forward(inputNorm.apply(x, inference), rope, kernels, index);
        NDArray h = inference ? x.addi(attended) : x.add(attended);
        NDArray mixed = mlp.apply(postAttentionNorm.apply(h, inference), kernels);
        return inference ? h.addi(mixed) : h.add(mixed);
    }
}
