package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each block against hand-derived values or the naive loops of {@link NaiveReference}. */
class BlocksTest {
    private final NDManager manager = NDManager.newBaseManager();
    private final SplittableRandom random = new SplittableRandom(11);

    @AfterEach
    void close() {
        manager.close();
    }

    private float[] randomFloats(int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (TestModels.gaussian(random) * scale);
        }
        return v;
    }

    private static double[] row(float[] flat, int row, int width) {
        double[] r = new double[width];
        for (int i = 0; i < width; i++) {
            r[i] = flat[row * width + i];
        }
        return r;
    }

    @Test
    void layerNorm1pAddsOneToTheWeight() {
        // Hand-derived: x = [1, 2, 3, 6], mean 3, variance 3.5; weight 0 means scale 1, bias 0.5.
        LayerNorm1P norm = new LayerNorm1P(manager.zeros(TestModels.shape(4)), manager.full(TestModels.shape(4), 0.5f), 0f);
        float[] y = norm.apply(manager.create(new float[] {1, 2, 3, 6}).reshape(1, 4)).toFloatArray();
        double sd = Math.sqrt(3.5);
        assertEquals(-2 / sd + 0.5, y[0], 1e-6);
        assertEquals(-1 / sd + 0.5, y[1], 1e-6);
        assertEquals(0.5, y[2], 1e-6);
        assertEquals(3 / sd + 0.5, y[3], 1e-6);

        float[] x = randomFloats(3 * 16, 2);
        float[] w = randomFloats(16, 0.3);
        float[] b = randomFloats(16, 0.3);
        float[] out = new LayerNorm1P(manager.create(w), manager.create(b), 1e-5f)
                .apply(manager.create(x).reshape(3, 16)).toFloatArray();
        for (int r = 0; r < 3; r++) {
            double[] expected = NaiveReference.layerNorm1p(row(x, r, 16), w, b, 1e-5);
            for (int i = 0; i < 16; i++) {
                assertEquals(expected[i], out[r * 16 + i], 1e-5);
            }
        }
    }

    @Test
    void rmsNormScalesByTheRootMeanSquare() {
        // Hand-derived: x = [3, 4], mean square 12.5; weight [1, 2].
        RmsNorm norm = new RmsNorm(manager.create(new float[] {1, 2}), 0f);
        float[] y = norm.apply(manager.create(new float[] {3, 4}).reshape(1, 2)).toFloatArray();
        assertEquals(3 / Math.sqrt(12.5), y[0], 1e-6);
        assertEquals(8 / Math.sqrt(12.5), y[1], 1e-6);

        float[] x = randomFloats(2 * 24, 3);
        float[] w = randomFloats(24, 1);
        float[] out = new RmsNorm(manager.create(w), 1e-6f).apply(manager.create(x).reshape(2, 24)).toFloatArray();
        for (int r = 0; r < 2; r++) {
            double[] expected = NaiveReference.rmsNorm(row(x, r, 24), w, 1e-6);
            for (int i = 0; i < 24; i++) {
                assertEquals(expected[i], out[r * 24 + i], 1e-5);
            }
        }
    }

    @Test
    void fullRotaryMatchesHandDerivedRotation() {
        // head [1, 2, 3, 4], theta 100, dim 4: inverse frequencies [1, 0.1]; position 1.
        RotaryEmbedding rope = new RotaryEmbedding(4, 100.0, null);
        NDArray x = manager.create(new float[] {1, 2, 3, 4}).reshape(1, 4);
        float[] y = rope.angles(manager.create(new long[] {1}), ai.djl.ndarray.types.DataType.FLOAT32, 4, 1)
                .apply(x, 1).toFloatArray();
        assertEquals(Math.cos(1) - 3 * Math.sin(1), y[0], 1e-6);
        assertEquals(2 * Math.cos(0.1) - 4 * Math.sin(0.1), y[1], 1e-6);
        assertEquals(3 * Math.cos(1) + Math.sin(1), y[2], 1e-6);
        assertEquals(4 * Math.cos(0.1) + 2 * Math.sin(0.1), y[3], 1e-6);
    }

    @Test
    void partialRotaryLeavesTheTailChannelsAlone() {
        int heads = 3;
        int headDim = 8;
        int rotDim = 4;
        RotaryEmbedding rope = new RotaryEmbedding(rotDim, 10000.0, null);
        long[] positions = {0, 5, 17};
        float[] x = randomFloats(positions.length * heads * headDim, 1);
        float[] y = rope.angles(manager.create(positions), ai.djl.ndarray.types.DataType.FLOAT32, headDim, heads)
                .apply(manager.create(x).reshape(positions.length, heads * headDim), heads).toFloatArray();
        double[] inv = TestModels.plainInverseFrequencies(rotDim, 10000.0);
        for (int t = 0; t < positions.length; t++) {
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * headDim;
                double[] expected = NaiveReference.rotary(row(x, t * heads + h, headDim), (int) positions[t], inv, rotDim);
                for (int d = 0; d < headDim; d++) {
                    assertEquals(expected[d], y[base + d], 1e-5);
                }
                for (int d = rotDim; d < headDim; d++) {
                    assertEquals(x[base + d], y[base + d], 0.0, "channel past the rotary dim changed");
                }
            }
        }
    }

    @Test
    void llama3AndLinearScalingOfInverseFrequencies() {
        // dim 8, theta 10000: unscaled 1, 0.1, 0.01, 0.001. original context 64, low 1, high 4, factor 8:
        // wavelengths 6.28 (< 16: kept), 62.8 (between 16 and 64: blended), 628 and 6283 (> 64: divided by 8).
        float[] inv = RotaryEmbedding.inverseFrequencies(8, 10000.0, new RopeScaling("llama3", 8, 1, 4, 64));
        double smooth = (64 / (2 * Math.PI / 0.1) - 1) / (4 - 1);
        assertEquals(1.0, inv[0], 1e-7);
        assertEquals((1 - smooth) * 0.1 / 8 + smooth * 0.1, inv[1], 1e-7);
        assertEquals(0.01 / 8, inv[2], 1e-9);
        assertEquals(0.001 / 8, inv[3], 1e-10);
        float[] linear = RotaryEmbedding.inverseFrequencies(4, 100.0, new RopeScaling("linear", 2, 1, 4, 64));
        assertEquals(0.5, linear[0], 1e-7);
        assertEquals(0.05, linear[1], 1e-8);
    }

    @Test
    void squaredReluMlp() {
        // Hand-derived: up = identity-ish [[1, 0], [0, -1], [1, 1]], down sums: x = [2, 3].
        // up(x) = [2, -3, 5]; relu^2 = [4, 0, 25]; down = [[1, 1, 1], [0, 0, 2]] -> [29, 50].
        SquaredReluMlp mlp = new SquaredReluMlp(
                new Projection(manager.create(new float[] {1, 0, 0, -1, 1, 1}).reshape(3, 2), null),
                new Projection(manager.create(new float[] {1, 1, 1, 0, 0, 2}).reshape(2, 3), null));
        float[] y = mlp.apply(manager.create(new float[] {2, 3}).reshape(1, 2)).toFloatArray();
        assertEquals(29, y[0], 1e-5);
        assertEquals(50, y[1], 1e-5);

        float[] x = randomFloats(2 * 8, 1);
        float[] up = randomFloats(12 * 8, 0.5);
        float[] down = randomFloats(8 * 12, 0.5);
        float[] out = new SquaredReluMlp(new Projection(manager.create(up).reshape(12, 8), null),
                new Projection(manager.create(down).reshape(8, 12), null)).apply(manager.create(x).reshape(2, 8)).toFloatArray();
        for (int r = 0; r < 2; r++) {
            double[] expected = NaiveReference.relu2Mlp(row(x, r, 8), up, down, 12);
            for (int i = 0; i < 8; i++) {
                assertEquals(expected[i], out[r * 8 + i], 1e-4);
            }
        }
    }

    @Test
    void swigluMlp() {
        float[] x = randomFloats(3 * 8, 1);
        float[] gate = randomFloats(10 * 8, 0.5);
        float[] up = randomFloats(10 * 8, 0.5);
        float[] down = randomFloats(8 * 10, 0.5);
        float[] out = new SwiGluMlp(new Projection(manager.create(gate).reshape(10, 8), null),
                new Projection(manager.create(up).reshape(10, 8), null),
                new Projection(manager.create(down).reshape(8, 10), null)).apply(manager.create(x).reshape(3, 8)).toFloatArray();
        for (int r = 0; r < 3; r++) {
            double[] expected = NaiveReference.swigluMlp(row(x, r, 8), gate, up, down, 10);
            for (int i = 0; i < 8; i++) {
                assertEquals(expected[i], out[r * 8 + i], 1e-4);
            }
        }
    }

    @Test
    void groupedQueryAttentionIsCausalAndSharesKvHeads() {
        int n = 5;
        int heads = 4;
        int kvHeads = 2;
        int hd = 3;
        float[] q = randomFloats(n * heads * hd, 1);
        float[] k = randomFloats(n * kvHeads * hd, 1);
        float[] v = randomFloats(n * kvHeads * hd, 1);
        float[] out = new CausalAttention(manager, 1, n).attend(0, manager.create(q).reshape(n, heads * hd),
                manager.create(k).reshape(n, kvHeads * hd), manager.create(v).reshape(n, kvHeads * hd),
                new AttentionKernel.Heads(heads, kvHeads, hd)).toFloatArray();
        double[][][] keys = new double[n][kvHeads][];
        double[][][] values = new double[n][kvHeads][];
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < kvHeads; h++) {
                keys[t][h] = row(k, t * kvHeads + h, hd);
                values[t][h] = row(v, t * kvHeads + h, hd);
            }
        }
        for (int t = 0; t < n; t++) {
            double[][] qt = new double[heads][];
            for (int h = 0; h < heads; h++) {
                qt[h] = row(q, t * heads + h, hd);
            }
            double[] expected = NaiveReference.attention(qt, keys, values, t, heads, kvHeads, hd);
            for (int i = 0; i < heads * hd; i++) {
                assertEquals(expected[i], out[t * heads * hd + i], 1e-5, "token " + t);
            }
        }
        // The first token sees only itself: its output is exactly its own value vectors.
        for (int h = 0; h < heads; h++) {
            for (int d = 0; d < hd; d++) {
                assertEquals(v[(h / 2) * hd + d], out[h * hd + d], 1e-6);
            }
        }
    }
}
