package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Mamba-2's selective state-space scan, as the chunked "state space duality" algorithm: within a
 * chunk the recurrence is computed as a masked, decayed attention-like product (a few batched
 * matmuls); between chunks only the [heads, headDim, stateSize] states are carried. It equals the
 * plain recurrence
 *
 * <pre>
 *   h_t = exp(dt_t A) h_{t-1} + dt_t x_t ⊗ B_t,   y_t = h_t · C_t
 * </pre>
 *
 * (tested against it), costs O(L · chunk) instead of L sequential steps, and is differentiable, so
 * training and serving share it. Every array here is FP32.
 */
public final class Ssd {
    private Ssd() {}

    /** The scan's output [b, l, heads, headDim] and the state after the last token [b, heads, headDim, n]. */
    public record Result(NDArray y, NDArray finalState) {}

    /**
     * @param x     [b, l, heads, headDim]
     * @param dt    [b, l, heads], already through softplus and clipping
     * @param a     [heads], negative: A = -exp(A_log)
     * @param bm    [b, l, heads, n] (groups already expanded to heads)
     * @param cm    [b, l, heads, n]
     * @param h0    [b, heads, headDim, n], or null for a zero initial state
     * @param chunk the chunk length
     */
    public static Result scan(NDArray x, NDArray dt, NDArray a, NDArray bm, NDArray cm, NDArray h0, int chunk) {
        NDManager m = x.getManager();
        long b = x.getShape().get(0);
        long l = x.getShape().get(1);
        long h = x.getShape().get(2);
        long p = x.getShape().get(3);
        long n = bm.getShape().get(3);
        long pad = (chunk - l % chunk) % chunk;
        long c = (l + pad) / chunk;

        // Discretise: x scaled by dt, and the per-step log-decay dt * A. Zero padding decays nothing and adds nothing.
        NDArray xdt = padTime(x.mul(dt.expandDims(3)), pad);
        NDArray logDecay = padTime(dt.mul(a), pad);
        NDArray xs = xdt.reshape(b, c, chunk, h, p).transpose(0, 3, 1, 2, 4);       // [b, h, c, q, p]
        NDArray bs = padTime(bm, pad).reshape(b, c, chunk, h, n).transpose(0, 3, 1, 2, 4);
        NDArray cs = padTime(cm, pad).reshape(b, c, chunk, h, n).transpose(0, 3, 1, 2, 4);
        NDArray ad = logDecay.reshape(b, c, chunk, h).transpose(0, 3, 1, 2);        // [b, h, c, q]
        NDArray cumulative = ad.cumSum(3);

        // 1. Within each chunk: y_i = sum_{j <= i} (C_i . B_j) exp(sum_{j<k<=i} a_k) x_j.
        NDArray decay = segmentDecay(ad);                                             // [b, h, c, q, q]
        NDArray yDiagonal = cs.matMul(bs.transpose(0, 1, 2, 4, 3)).mul(decay).matMul(xs);

        // 2. Each chunk's own contribution to the state at its end.
        NDArray toEnd = cumulative.get(":, :, :, -1:").sub(cumulative).exp();        // [b, h, c, q]
        NDArray chunkStates = xs.transpose(0, 1, 2, 4, 3).matMul(bs.mul(toEnd.expandDims(4))); // [b, h, c, p, n]

        // 3. Carry states across chunks: the state entering chunk k is the decayed sum of those before it.
        NDArray initial = h0 == null ? m.zeros(new Shape(b, h, 1, p, n), DataType.FLOAT32) : h0.expandDims(2);
        NDArray states = initial.concat(chunkStates, 2).reshape(b, h, c + 1, p * n);
        NDArray chunkDecay = m.zeros(new Shape(b, h, 1), DataType.FLOAT32)
                .concat(cumulative.get(":, :, :, -1"), 2);                           // [b, h, c + 1]
        NDArray carried = segmentDecay(chunkDecay).matMul(states);                   // [b, h, c + 1, p*n]
        NDArray entering = carried.get(":, :, :-1").reshape(b, h, c, p, n);
        NDArray finalState = carried.get(":, :, -1").reshape(b, h, p, n);

        // 4. What the entering state adds to each position: exp(cumulative a) C_i . h.
        NDArray yCarried = cs.matMul(entering.transpose(0, 1, 2, 4, 3)).mul(cumulative.exp().expandDims(4));

        NDArray y = yDiagonal.add(yCarried).transpose(0, 2, 3, 1, 4).reshape(b, c * chunk, h, p);
        return new Result(pad == 0 ? y : y.get(":, :" + l), finalState);
    }

    /**
     * d[..., i, j] = exp(a[..., j+1] + ... + a[..., i]) for j <= i and 0 above the diagonal: the
     * decay from step j to step i. The sums are taken directly rather than as differences of a
     * cumulative sum (which loses precision once it grows large), and the upper triangle is zeroed
     * by a mask after exp rather than by exp(-inf), so no infinity enters the graph: training
     * through -inf masks gave intermittent NaN gradients.
     */
    static NDArray segmentDecay(NDArray a) {
        NDManager m = a.getManager();
        Shape shape = a.getShape();
        int q = (int) shape.get(shape.dimension() - 1);
        float[] strictLower = new float[q * q];
        float[] lower = new float[q * q];
        for (int i = 0; i < q; i++) {
            for (int j = 0; j < q; j++) {
                strictLower[i * q + j] = j < i ? 1f : 0f;
                lower[i * q + j] = j <= i ? 1f : 0f;
            }
        }
        // expanded[..., i, j] = a[..., i], kept where j < i; summing over i gives the segment sums, and 0 above.
        NDArray expanded = a.expandDims(-1).repeat(-1, q).mul(m.create(strictLower, new Shape(q, q)));
        NDArray sums = expanded.cumSum(expanded.getShape().dimension() - 2);
        return sums.exp().mul(m.create(lower, new Shape(q, q)));
    }

    /** Zero-pads axis 1 (time) by {@code pad} steps. */
    private static NDArray padTime(NDArray t, long pad) {
        if (pad == 0) {
            return t;
        }
        Shape s = t.getShape();
        long[] dims = s.getShape().clone();
        dims[1] = pad;
        return t.concat(t.getManager().zeros(new Shape(dims), t.getDataType()), 1);
    }
}
