package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** A pre-norm decoder layer: x + attn(norm(x)), then h + mlp(norm(h)). */
public record DecoderLayer(Norm inputNorm, SelfAttention attention, Norm postAttentionNorm, Mlp mlp) {

    /** {@code inference} true: the residual sums go into x itself, which the caller gives up. */
    public NDArray forward(NDArray x, RotaryEmbedding.Angles rope, AttentionKernel kernel, int index, boolean inference) {
        NDArray attended = attention.forward(inputNorm.apply(x, inference), rope, kernel, index, inference);
        NDArray h = inference ? x.addi(attended) : x.add(attended);
        NDArray mixed = mlp.apply(postAttentionNorm.apply(h, inference), inference);
        return inference ? h.addi(mixed) : h.add(mixed);
    }
}
