package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.nuri.model.kv.SequenceChunk;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Rows reduced to their argmax where the logits lie against a plain loop over the same row on the
 * heap (the engine's own greedy draw: first maximum, excluded tokens skipped, a NaN or +infinity
 * anywhere fails the row), and rows copied whole untouched beside them.
 */
class LogitsReaderTest {
    private static final int VOCAB = 37;

    @Test
    void reducedRowsGiveTheHeapArgmaxAndCopiedRowsStayRaw() {
        Random random = new Random(11);
        float[][] rows = new float[7][VOCAB];
        for (float[] row : rows) {
            for (int v = 0; v < VOCAB; v++) {
                row[v] = (float) random.nextGaussian();
            }
        }
        int[] excluded = {3, 20, 36};
        rows[0][20] = 50; // the largest is excluded: the next one wins
        rows[1][5] = 9;
        rows[1][30] = 9; // a tie: the lower id
        rows[2][11] = Float.NaN;
        rows[3][20] = Float.POSITIVE_INFINITY; // +infinity in an excluded place still fails the row
        java.util.Arrays.fill(rows[4], Float.NEGATIVE_INFINITY); // everything refused: id 0, as the heap loop gives
        rows[6][3] = 80; // a copied row keeps its excluded token's value
        boolean[][] cases = {
            {true, true, true, true, true, false, false}, // some reduced, some copied: a gather for each
            {true, true, true, true, true, true, true},   // all reduced: no gather, masked in place
        };
        for (DataType dtype : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
            for (boolean[] argmaxOnly : cases) {
                check(rows, argmaxOnly, excluded, dtype);
            }
        }
    }

    /** A real step: the rows reduced on the device give the argmax of the same rows read whole. */
    @Test
    void aModelStepReducesTheRowsItIsAskedTo() {
        ModelConfig c = TestModels.llama();
        int[][] seqs = {TestModels.randomTokens(6, c.vocabSize(), 1), TestModels.randomTokens(3, c.vocabSize(), 2),
                TestModels.randomTokens(9, c.vocabSize(), 3)};
        int[] excluded = {0, 7, 19};
        try (DecoderModel model = TestModels.build(c, 5)) {
            LanguageModel lm = new LanguageModel("t", null, model, null);
            StepLogits[] reads = new StepLogits[2];
            for (int pass = 0; pass < 2; pass++) {
                try (var cache = lm.newKvCache(32, 4)) {
                    List<SequenceChunk> step = new ArrayList<>();
                    for (int[] s : seqs) {
                        var table = cache.newBlockTable();
                        org.junit.jupiter.api.Assertions.assertTrue(table.reserve(s.length, cache.allocator()));
                        step.add(new SequenceChunk(table, s, 0));
                    }
                    int baseline = lm.liveArrayCount();
                    reads[pass] = lm.forward(step, cache, null, pass == 0 ? Readout.whole(3)
                            : new Readout(new boolean[] {true, false, true}, excluded));
                    assertEquals(baseline, lm.liveArrayCount(), "a step frees everything it made");
                }
            }
            for (int i : new int[] {0, 2}) {
                assertNull(reads[1].rows()[i]);
                assertEquals(heapArgmax(reads[0].rows()[i], excluded, DataType.FLOAT32), reads[1].argmax()[i], "row " + i);
            }
            assertArrayEquals(reads[0].rows()[1], reads[1].rows()[1], "the row read whole");
        }
    }

    private static void check(float[][] rows, boolean[] argmaxOnly, int[] excluded, DataType dtype) {
        // One chunk per row, and one more in the middle that wants no logits (a prefill chunk short of its end).
        boolean[] wants = new boolean[rows.length + 1];
        boolean[] readout = new boolean[rows.length + 1];
        float[] flat = new float[rows.length * VOCAB];
        for (int i = 0, r = 0; i <= rows.length; i++) {
            wants[i] = i != 3;
            if (wants[i]) {
                readout[i] = argmaxOnly[r];
                System.arraycopy(rows[r], 0, flat, r * VOCAB, VOCAB);
                r++;
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            StepLogits read = new LogitsReader(VOCAB).read(
                    m.create(flat, new Shape(rows.length, VOCAB)).toType(dtype, false), wants, new Readout(readout, excluded));
            for (int i = 0, r = 0; i <= rows.length; i++) {
                if (i == 3) {
                    assertNull(read.rows()[i]);
                    continue;
                }
                String what = dtype + " row " + r;
                if (argmaxOnly[r]) {
                    assertNull(read.rows()[i], what);
                    assertEquals(heapArgmax(rows[r], excluded, dtype), read.argmax()[i], what);
                } else {
                    assertArrayEquals(asStored(rows[r], dtype), read.rows()[i], what);
                }
                r++;
            }
        }
    }

    /** The engine's draw on the heap: fail on NaN or +infinity, refuse the excluded, take the first maximum. */
    private static int heapArgmax(float[] raw, int[] excluded, DataType dtype) {
        float[] row = asStored(raw, dtype);
        for (float v : row) {
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
                return StepLogits.NOT_FINITE;
            }
        }
        for (int id : excluded) {
            row[id] = Float.NEGATIVE_INFINITY;
        }
        int best = 0;
        for (int v = 1; v < row.length; v++) {
            if (row[v] > row[best]) {
                best = v;
            }
        }
        return best;
    }

    private static float[] asStored(float[] row, DataType dtype) {
        float[] out = row.clone();
        if (dtype == DataType.FLOAT16) {
            for (int v = 0; v < out.length; v++) {
                out[v] = Float.float16ToFloat(Float.floatToFloat16(out[v]));
            }
        }
        return out;
    }
}
