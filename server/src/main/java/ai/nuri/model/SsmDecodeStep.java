package ai.nuri.model;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * Mamba-2's decode recurrence for n sequences, fused into one pass in Java over the state pool's
 * own memory (CPU only): each state row is read once and written once, and the output is summed
 * on the way. The same step as torch ops (gather, decay, outer product, add, matmul, scatter)
 * moves the state through memory about six times, and at real sizes (megabytes of state per
 * sequence) decode is bound by exactly that traffic.
 *
 * <p>For sequence i, head h (group g = h / (heads / groups)), channel p and state index k:
 * h_new[k] = exp(dt a) h_old[k] + dt x[p] B[g][k], and y[p] = sum_k h_new[k] C[g][k] + D x[p].
 */
final class SsmDecodeStep {
    private SsmDecodeStep() {}

    /**
     * @param pool  [rows, heads, headDim, stateSize] FP32, updated in place
     * @param read  per sequence, the pool row holding its state before the step (a zero row for a fresh one)
     * @param write per sequence, the pool row that receives its state after the step
     * @param x     [n, heads, headDim]
     * @param dt    [n, heads], after softplus and clipping
     * @param a     [heads], negative
     * @param b     [n, groups, stateSize]
     * @param c     [n, groups, stateSize]
     * @param d     [heads] the skip
     * @return y [n, heads, headDim]
     */
    static float[] run(FloatBuffer pool, int[] read, int[] write, float[] x, float[] dt, float[] a, float[] b,
            float[] c, float[] d, int heads, int headDim, int groups, int stateSize) {
        int n = read.length;
        int headsPerGroup = heads / groups;
        long rowSize = (long) heads * headDim * stateSize;
        float[] y = new float[n * heads * headDim];
        IntStream.range(0, n * heads).parallel().forEach(job -> {
            int i = job / heads;
            int h = job % heads;
            float step = dt[i * heads + h];
            float decay = (float) Math.exp(step * a[h]);
            int bc = (i * groups + h / headsPerGroup) * stateSize;
            for (int p = 0; p < headDim; p++) {
                int xi = (i * heads + h) * headDim + p;
                float input = step * x[xi];
                int from = Math.toIntExact(read[i] * rowSize + ((long) h * headDim + p) * stateSize);
                int to = Math.toIntExact(write[i] * rowSize + ((long) h * headDim + p) * stateSize);
                float sum = 0;
                for (int k = 0; k < stateSize; k++) {
                    float s = pool.get(from + k) * decay + input * b[bc + k];
                    pool.put(to + k, s);
                    sum += s * c[bc + k];
                }
                y[xi] = sum + d[h] * x[xi];
            }
        });
        return y;
    }
}
