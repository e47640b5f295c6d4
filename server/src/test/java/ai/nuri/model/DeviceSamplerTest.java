package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Rows drawn in libtorch against a naive reference written here (sort the ids by logit, softmax at
 * the temperature, keep top-k, then the tokens whose mass above is under top-p, then those of at
 * least min-p of the top one; renormalise): frequencies over many rows of one batch within five
 * standard deviations; excluded tokens never drawn; the same uniforms give the same tokens; and
 * through the reader, beside greedy and copied rows, a non-finite row fails.
 */
class DeviceSamplerTest {
    private static final int VOCAB = 40;

    @Test
    void drawsFollowTheReferenceUnderEveryFilter() {
        SplittableRandom random = new SplittableRandom(3);
        float[] logits = new float[VOCAB];
        for (int v = 0; v < VOCAB; v++) {
            logits[v] = (float) (random.nextGaussian() * 1.5);
        }
        logits[7] = Float.NEGATIVE_INFINITY; // excluded (a token refused at a character boundary)
        DeviceDraw[] kinds = {
            new DeviceDraw(1f, 0, 1f, 0f, 0), // temperature alone
            new DeviceDraw(0.7f, 0, 0.6f, 0f, 0), // top-p
            new DeviceDraw(1.3f, 12, 0.9f, 0.05f, 0), // all three
            new DeviceDraw(1f, 5, 1f, 0f, 0), // top-k
            new DeviceDraw(2f, 0, 1f, 0.3f, 0), // min-p
        };
        int perKind = 6000;
        int rows = kinds.length * perKind;
        float[] flat = new float[rows * VOCAB];
        DeviceDraw[] draws = new DeviceDraw[rows];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(logits, 0, flat, r * VOCAB, VOCAB);
            DeviceDraw k = kinds[r % kinds.length];
            draws[r] = new DeviceDraw(k.temperature(), k.topK(), k.topP(), k.minP(), random.nextDouble());
        }
        long[] ids;
        long[] again;
        try (NDManager m = NDManager.newBaseManager()) {
            ids = DeviceSampler.draw(m.create(flat, new Shape(rows, VOCAB)), draws);
            again = DeviceSampler.draw(m.create(flat, new Shape(rows, VOCAB)), draws);
        }
        assertArrayEquals(ids, again, "the same uniforms draw the same tokens");
        for (int kind = 0; kind < kinds.length; kind++) {
            double[] expected = reference(logits, kinds[kind]);
            int[] counts = new int[VOCAB];
            for (int r = kind; r < rows; r += kinds.length) {
                counts[(int) ids[r]]++;
            }
            assertEquals(0, counts[7], "an excluded token is never drawn");
            for (int v = 0; v < VOCAB; v++) {
                double sd = Math.sqrt(expected[v] * (1 - expected[v]) / perKind);
                assertEquals(expected[v], counts[v] / (double) perKind, 5 * sd + 1e-12, "token " + v + ", " + kinds[kind]);
            }
        }
    }

    @Test
    void uniformsAtTheEdgesStayInsideTheKeptTokens() {
        float[] logits = new float[VOCAB];
        for (int v = 0; v < VOCAB; v++) {
            logits[v] = -v * 0.01f; // near-flat, strictly decreasing: token 0 first
        }
        logits[VOCAB - 1] = Float.NEGATIVE_INFINITY;
        DeviceDraw[] draws = {
            new DeviceDraw(1f, 3, 1f, 0f, 0.0), new DeviceDraw(1f, 3, 1f, 0f, Math.nextDown(1.0)),
            new DeviceDraw(1f, 0, 1f, 0f, Math.nextDown(1.0)), new DeviceDraw(1f, 1, 1f, 0f, 0.5),
        };
        float[] flat = new float[draws.length * VOCAB];
        for (int r = 0; r < draws.length; r++) {
            System.arraycopy(logits, 0, flat, r * VOCAB, VOCAB);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            long[] ids = DeviceSampler.draw(m.create(flat, new Shape(draws.length, VOCAB)), draws);
            assertArrayEquals(new long[] {0, 2, VOCAB - 2, 0}, ids);
        }
    }

    @Test
    void theReaderDrawsBesideGreedyAndCopiedRowsAndANonFiniteRowFails() {
        SplittableRandom random = new SplittableRandom(5);
        float[][] rows = new float[4][VOCAB];
        for (float[] row : rows) {
            for (int v = 0; v < VOCAB; v++) {
                row[v] = (float) random.nextGaussian();
            }
        }
        rows[0][9] = 30; // a sure token: top-k 1 draws it
        rows[2][4] = Float.NaN;
        float[] flat = new float[4 * VOCAB];
        for (int r = 0; r < 4; r++) {
            System.arraycopy(rows[r], 0, flat, r * VOCAB, VOCAB);
        }
        DeviceDraw sure = new DeviceDraw(1f, 1, 1f, 0f, 0.3);
        Readout readout = new Readout(new boolean[] {false, true, false, false}, new DeviceDraw[] {sure, null, sure, null},
                new int[] {9});
        try (NDManager m = NDManager.newBaseManager()) {
            StepLogits read = new LogitsReader(VOCAB).read(m.create(flat, new Shape(4, VOCAB)), new boolean[] {true, true, true, true},
                    readout);
            int secondBest = 0;
            for (int v = 0; v < VOCAB; v++) {
                secondBest = v != 9 && rows[0][v] > rows[0][secondBest] ? v : secondBest;
            }
            assertEquals(secondBest, read.argmax()[0], "top-k 1 with the sure token excluded: the next one");
            assertNull(read.rows()[0]);
            assertNull(read.rows()[1], "greedy: reduced");
            assertEquals(StepLogits.NOT_FINITE, read.argmax()[2]);
            assertArrayEquals(rows[3], read.rows()[3], "copied whole");
            assertTrue(read.argmax()[1] >= 0);
        }
    }

    /** The naive reference: one row's probabilities after the filters, over the vocabulary. */
    private static double[] reference(float[] logits, DeviceDraw d) {
        Integer[] ids = new Integer[logits.length];
        for (int v = 0; v < ids.length; v++) {
            ids[v] = v;
        }
        Arrays.sort(ids, Comparator.comparingDouble((Integer v) -> -logits[v]).thenComparingInt(v -> v));
        double max = logits[ids[0]];
        double[] p = new double[logits.length];
        double total = 0;
        for (int v = 0; v < logits.length; v++) {
            p[v] = Math.exp((logits[v] - max) / d.temperature());
            total += p[v];
        }
        for (int v = 0; v < logits.length; v++) {
            p[v] /= total;
        }
        double[] out = new double[logits.length];
        double above = 0;
        double kept = 0;
        for (int rank = 0; rank < ids.length; rank++) {
            int v = ids[rank];
            boolean keep = p[v] > 0 && (d.topK() == 0 || rank < d.topK()) && above < d.topP()
                    && p[v] >= d.minP() * p[ids[0]];
            above += p[v];
            if (keep) {
                out[v] = p[v];
                kept += p[v];
            }
        }
        for (int v = 0; v < out.length; v++) {
            out[v] /= kept;
        }
        return out;
    }
}
