package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Attention over a dense batch of B sequences of L tokens each (right-padded), every token
 * seeing itself and the tokens before it. Used for training and as a cache-free reference.
 */
public final class CausalAttention implements AttentionKernel {
    private final long batch;
    private final long length;
    private final NDArray mask;

    public CausalAttention(NDManager manager, int batch, int length) {
        this.batch = batch;
        this.length = length;
        float[] m = new float[length * length];
        for (int i = 0; i < length; i++) {
            for (int j = i + 1; j < length; j++) {
                m[i * length + j] = GroupedAttention.MASKED;
            }
        }
        this.mask = manager.create(m).reshape(1, length, length);
    }

    @Override
    public NDArray attend(int layer, NDArray q, NDArray k, NDArray v, Heads heads) {
        NDArray out = GroupedAttention.attend(
                q.reshape(batch, length, heads.query(), heads.size()),
                k.reshape(batch, length, heads.keyValue(), heads.size()),
                v.reshape(batch, length, heads.keyValue(), heads.size()),
                mask);
        return out.reshape(batch * length, (long) heads.query() * heads.size());
    }
}
