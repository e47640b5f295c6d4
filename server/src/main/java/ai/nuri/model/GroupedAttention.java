package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Scaled dot-product attention with grouped key/value heads (GQA), shared by every attention
 * kernel. Query head h reads key/value head h / (heads / kvHeads), as transformers' repeat_kv
 * does, but without materialising the repeated keys: queries are grouped per key/value head.
 */
public final class GroupedAttention {
    /** Added to disallowed scores; finite so that softmax never sees inf - inf. */
    public static final float MASKED = -1e30f;

    private GroupedAttention() {}

    /**
     * @param q    [N, Lq, heads, headDim]
     * @param k    [N, Lk, kvHeads, headDim]
     * @param v    [N, Lk, kvHeads, headDim]
     * @param mask additive FP32 mask broadcastable to [N, Lq, Lk] (0 allowed, {@link #MASKED} not)
     * @return [N, Lq, heads * headDim]
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask) {
        long n = q.getShape().get(0);
        long lq = q.getShape().get(1);
        long heads = q.getShape().get(2);
        long headDim = q.getShape().get(3);
        long lk = k.getShape().get(1);
        long kvHeads = k.getShape().get(2);
        long group = heads / kvHeads;
        DataType type = q.getDataType();

        NDArray grouped = q.reshape(n, lq, kvHeads, group, headDim).transpose(0, 2, 3, 1, 4)
                .reshape(n, kvHeads, group * lq, headDim);
        NDArray scores = grouped.matMul(k.transpose(0, 2, 3, 1)) // [N, kvH, g*Lq, Lk]
                .toType(DataType.FLOAT32, false)
                .mul(1.0 / Math.sqrt(headDim))
                .reshape(n, kvHeads, group, lq, lk)
                .add(mask.reshape(mask.getShape().get(0), 1, 1, lq, lk));
        NDArray probs = scores.softmax(-1).toType(type, false).reshape(n, kvHeads, group * lq, lk);
        return probs.matMul(v.transpose(0, 2, 1, 3)) // [N, kvH, g*Lq, headDim]
                .reshape(n, kvHeads, group, lq, headDim)
                .transpose(0, 3, 1, 2, 4)
                .reshape(n, lq, heads * headDim);
    }
}
