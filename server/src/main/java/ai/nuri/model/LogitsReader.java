package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Reads a step's logits ([W, vocab]: one row per chunk that wants logits, in chunk order) as a
 * {@link Readout} says: the rows to reduce go through one argmax and one max where they lie (the max
 * shows a NaN or +infinity anywhere in the row), the rest are copied to the heap in one transfer.
 */
final class LogitsReader {
    private final int vocab;
    /** The additive mask of the last excluded set (0, or -infinity at an excluded id): it rarely changes. */
    private int[] maskedIds = new int[0];
    private float[] mask = new float[0];

    LogitsReader(int vocab) {
        this.vocab = vocab;
    }

    /** @param wantsLogits per chunk: whether it has a row in {@code logits} */
    StepLogits read(NDArray logits, boolean[] wantsLogits, Readout readout) {
        int n = wantsLogits.length;
        float[][] rows = new float[n][];
        int[] argmax = new int[n];
        int[] rowOf = new int[n]; // the chunk's row in logits, or -1
        int wanted = 0;
        int reduced = 0;
        for (int i = 0; i < n; i++) {
            rowOf[i] = wantsLogits[i] ? wanted++ : -1;
            if (rowOf[i] >= 0 && readout.argmaxOnly()[i]) {
                reduced++;
            }
        }
        long[] reduce = new long[reduced];
        long[] copy = new long[wanted - reduced];
        int r = 0;
        int c = 0;
        for (int i = 0; i < n; i++) {
            if (rowOf[i] >= 0) {
                if (readout.argmaxOnly()[i]) {
                    reduce[r++] = rowOf[i];
                } else {
                    copy[c++] = rowOf[i];
                }
            }
        }
        NDManager manager = logits.getManager();
        if (reduced > 0) {
            NDArray candidates = reduced == wanted ? logits : Rows.take(logits, manager.create(reduce));
            if (readout.excluded().length > 0) {
                NDArray m = manager.create(mask(readout.excluded()), new Shape(vocab)).toType(logits.getDataType(), false);
                // In place: a gathered copy, or the logits themselves when no row is to be copied whole.
                candidates = candidates.addi(m);
            }
            long[] ids = candidates.argMax(1).toLongArray();
            float[] max = candidates.max(new int[] {1}).toType(DataType.FLOAT32, false).toFloatArray();
            int k = 0;
            for (int i = 0; i < n; i++) {
                if (rowOf[i] >= 0 && readout.argmaxOnly()[i]) {
                    argmax[i] = Float.isNaN(max[k]) || max[k] == Float.POSITIVE_INFINITY ? StepLogits.NOT_FINITE : (int) ids[k];
                    k++;
                }
            }
        }
        if (copy.length > 0) {
            NDArray whole = copy.length == wanted ? logits : Rows.take(logits, manager.create(copy));
            float[] flat = (whole.getDataType() == DataType.FLOAT32 ? whole : whole.toType(DataType.FLOAT32, false))
                    .toFloatArray();
            int k = 0;
            for (int i = 0; i < n; i++) {
                if (rowOf[i] >= 0 && !readout.argmaxOnly()[i]) {
                    rows[i] = Arrays.copyOfRange(flat, k * vocab, (k + 1) * vocab);
                    k++;
                }
            }
        }
        return new StepLogits(rows, argmax);
    }

    private float[] mask(int[] excluded) {
        if (!Arrays.equals(excluded, maskedIds)) {
            float[] m = new float[vocab];
            for (int id : excluded) {
                if (id >= 0 && id < vocab) {
                    m[id] = Float.NEGATIVE_INFINITY;
                }
            }
            maskedIds = excluded.clone();
            mask = m;
        }
        return mask;
    }
}
