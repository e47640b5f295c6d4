package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** A pre-norm decoder layer: x + attn(norm(x)), then h + mlp(norm(h)). */
public record DecoderLayer(Norm inputNorm, SelfAttention attention, Norm postAttentionNorm, Mlp mlp) {

    public NDArray forward(NDArray x, RotaryEmbedding.Angles rope, AttentionKernel kernel, int index) {
        NDArray h = x.add(attention.forward(inputNorm.apply(x), rope, kernel, index));
        return h.add(mlp.apply(postAttentionNorm.apply(h)));
    }
}
