package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Reads a step's logits ([W, vocab]: one row per chunk that wants logits, in chunk order) as a
 * {@link Readout} says: the rows to reduce go through one argmax and one max where they lie (the max
 * shows a NaN or +infinity anywhere in the row), those with a draw then through {@link DeviceSampler};
 * the rest are copied to the heap in one transfer.
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
        // The chunks to reduce and to copy, and their rows in logits.
        int[] reduceChunks = new int[n];
        long[] reduce = new long[n];
        int[] copyChunks = new int[n];
        long[] copy = new long[n];
        int reduced = 0;
        int copied = 0;
        for (int i = 0, row = 0; i < n; i++) {
            if (!wantsLogits[i]) {
                continue;
            }
            if (readout.reduces(i)) {
                reduceChunks[reduced] = i;
                reduce[reduced++] = row++;
            } else {
                copyChunks[copied] = i;
                copy[copied++] = row++;
            }
        }
        int wanted = reduced + copied;
        NDManager manager = logits.getManager();
        if (reduced > 0) {
            NDArray candidates = reduced == wanted ? logits
                    : Rows.take(logits, manager.create(Arrays.copyOf(reduce, reduced)));
            if (readout.excluded().length > 0) {
                NDArray m = manager.create(mask(readout.excluded()), new Shape(vocab)).toType(logits.getDataType(), false);
                // In place: a gathered copy, or the logits themselves when no row is to be copied whole.
                candidates = candidates.addi(m);
            }
            long[] ids = candidates.argMax(1).toLongArray();
            float[] max = candidates.max(new int[] {1}).toType(DataType.FLOAT32, false).toFloatArray();
            boolean[] finite = new boolean[reduced];
            for (int k = 0; k < reduced; k++) {
                finite[k] = !Float.isNaN(max[k]) && max[k] != Float.POSITIVE_INFINITY;
            }
            drawWhereTheyLie(candidates, reduceChunks, reduced, finite, readout, ids);
            for (int k = 0; k < reduced; k++) {
                argmax[reduceChunks[k]] = finite[k] ? (int) ids[k] : StepLogits.NOT_FINITE;
            }
        }
        if (copied > 0) {
            NDArray whole = copied == wanted ? logits : Rows.take(logits, manager.create(Arrays.copyOf(copy, copied)));
            float[] flat = (whole.getDataType() == DataType.FLOAT32 ? whole : whole.toType(DataType.FLOAT32, false))
                    .toFloatArray();
            for (int k = 0; k < copied; k++) {
                rows[copyChunks[k]] = Arrays.copyOfRange(flat, k * vocab, (k + 1) * vocab);
            }
        }
        return new StepLogits(rows, argmax);
    }

    /**
     * Replaces the argmax of each reduced row that has a {@link DeviceDraw} by its draw, for the
     * finite rows among them (a row with NaN or +infinity fails by its max, as a greedy one does).
     */
    private static void drawWhereTheyLie(NDArray candidates, int[] reduceChunks, int reduced, boolean[] finite,
            Readout readout, long[] ids) {
        long[] drawRows = new long[reduced];
        DeviceDraw[] draws = new DeviceDraw[reduced];
        int n = 0;
        for (int k = 0; k < reduced; k++) {
            DeviceDraw d = readout.draws()[reduceChunks[k]];
            if (d != null && finite[k]) {
                drawRows[n] = k;
                draws[n++] = d;
            }
        }
        if (n == 0) {
            return;
        }
        NDArray rows = n == reduced ? candidates : Rows.take(candidates, candidates.getManager().create(Arrays.copyOf(drawRows, n)));
        long[] drawn = DeviceSampler.draw(rows.getDataType() == DataType.FLOAT32 ? rows : rows.toType(DataType.FLOAT32, false),
                Arrays.copyOf(draws, n));
        for (int j = 0; j < n; j++) {
            ids[(int) drawRows[j]] = drawn[j];
        }
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
