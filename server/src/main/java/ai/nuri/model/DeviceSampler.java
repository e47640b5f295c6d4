package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Temperature, top-k, top-p and min-p sampling of whole rows in libtorch, so that only the chosen
 * ids leave the device: on a GPU, instead of every row's vocabulary crossing to the heap each step.
 * On the CPU the heap sampler is faster (no sort), so a model uses this only off the CPU or when
 * told to ({@link LanguageModel#DEVICE_SAMPLING_PROPERTY}).
 *
 * <p>Per row: the logits over the temperature, sorted descending; their softmax; the three filters
 * each keep a prefix of that order (top-k the first k; top-p the tokens whose mass above them is
 * under p, as the heap sampler; min-p those at least p of the top one), so the kept tokens are the
 * shortest prefix; the row's uniform times the kept mass falls in one kept token's share of the
 * running sum. Tokens of equal logit may come out of libtorch's sort in any order, where the heap
 * sampler ranks the lower id first: the two differ only in which of exactly tied tokens sits at a
 * cut.
 */
public final class DeviceSampler {
    private static final java.util.concurrent.atomic.AtomicLong DRAWN = new java.util.concurrent.atomic.AtomicLong();

    private DeviceSampler() {}

    /** Rows drawn here since the process started (tests read it to know this path ran). */
    public static long rowsDrawn() {
        return DRAWN.get();
    }

    /**
     * @param logits [R, vocab] FP32, tokens that may not be drawn already at -infinity; every row finite
     * @return each row's token id
     */
    static long[] draw(NDArray logits, DeviceDraw[] draws) {
        int rows = draws.length;
        long vocab = logits.getShape().get(1);
        float[] temperature = new float[rows];
        long[] topK = new long[rows];
        float[] topP = new float[rows];
        float[] minP = new float[rows];
        float[] uniform = new float[rows];
        for (int r = 0; r < rows; r++) {
            DeviceDraw d = draws[r];
            temperature[r] = d.temperature();
            topK[r] = d.topK() == 0 ? vocab : d.topK();
            topP[r] = d.topP() >= 1 ? Float.POSITIVE_INFINITY : d.topP(); // 1: nothing cut, whatever the rounding
            minP[r] = d.minP();
            // Below 1 in float too: a uniform that rounds up to 1 would point past the kept mass.
            uniform[r] = Math.min((float) d.uniform(), Math.nextDown(1f));
        }
        NDManager m = logits.getManager();
        Shape column = new Shape(rows, 1);
        NDArray scaled = logits.div(m.create(temperature, column));
        NDArray order = scaled.argSort(1, false); // [R, vocab]: token ids, most likely first
        NDArray probs = scaled.gather(order, 1).softmax(1);
        NDArray above = probs.cumSum(1).sub(probs); // mass ranked above each token
        NDArray keep = above.lt(m.create(topP, column))
                .logicalAnd(m.arange(0L, vocab, 1L, DataType.INT64).reshape(1, vocab).lt(m.create(topK, column)))
                .logicalAnd(probs.gte(probs.get(":, 0:1").mul(m.create(minP, column))))
                .logicalAnd(probs.gt(0)); // an excluded token (-infinity) is never kept, even with nothing cut
        NDArray kept = probs.mul(keep.toType(DataType.FLOAT32, false));
        NDArray running = kept.cumSum(1);
        NDArray point = running.get(":, -1:").mul(m.create(uniform, column)); // [R, 1]
        // The first kept token whose running sum passes the point; at most the last kept one (rounding).
        NDArray position = running.lte(point).sum(new int[] {1}, true)
                .minimum(keep.sum(new int[] {1}, true).sub(1));
        long[] ids = order.gather(position.toType(DataType.INT64, false), 1).reshape(rows).toLongArray();
        DRAWN.addAndGet(rows);
        return ids;
    }
}
