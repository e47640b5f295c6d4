package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The chunked scan that serves Mamba-2 against the plain recurrence written here as loops,
 * h_t = exp(dt_t a) h_{t-1} + dt_t x_t B_t^T, y_t = h_t C_t, from a non-zero initial state, at chunk
 * sizes from 1 to longer than the sequence (transformers' chunked scan once went wrong at small
 * chunk sizes: #47246).
 */
class SsdTest {
    @Test
    void chunkedScanEqualsThePlainRecurrenceAtEveryChunkSize() {
        int b = 2;
        int l = 11;
        int h = 3;
        int p = 4;
        int n = 5;
        SplittableRandom r = new SplittableRandom(11);
        double[][][][] x = new double[b][l][h][p];
        double[][][] dt = new double[b][l][h];
        double[][][][] bm = new double[b][l][h][n];
        double[][][][] cm = new double[b][l][h][n];
        double[][][][] h0 = new double[b][h][p][n];
        double[] a = new double[h];
        for (int k = 0; k < h; k++) {
            a[k] = -(0.5 + 3 * r.nextDouble());
        }
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < l; t++) {
                for (int k = 0; k < h; k++) {
                    dt[i][t][k] = 0.01 + 0.5 * r.nextDouble();
                    for (int q = 0; q < p; q++) {
                        x[i][t][k][q] = r.nextDouble() * 2 - 1;
                    }
                    for (int s = 0; s < n; s++) {
                        bm[i][t][k][s] = r.nextDouble() * 2 - 1;
                        cm[i][t][k][s] = r.nextDouble() * 2 - 1;
                    }
                }
            }
            for (int k = 0; k < h; k++) {
                for (int q = 0; q < p; q++) {
                    for (int s = 0; s < n; s++) {
                        h0[i][k][q][s] = r.nextDouble() * 2 - 1;
                    }
                }
            }
        }
        // The recurrence, one step at a time.
        double[][][][] y = new double[b][l][h][p];
        double[][][][] state = new double[b][h][p][n];
        for (int i = 0; i < b; i++) {
            for (int k = 0; k < h; k++) {
                for (int q = 0; q < p; q++) {
                    state[i][k][q] = h0[i][k][q].clone();
                }
            }
            for (int t = 0; t < l; t++) {
                for (int k = 0; k < h; k++) {
                    double decay = Math.exp(dt[i][t][k] * a[k]);
                    for (int q = 0; q < p; q++) {
                        double out = 0;
                        for (int s = 0; s < n; s++) {
                            state[i][k][q][s] = decay * state[i][k][q][s] + dt[i][t][k] * x[i][t][k][q] * bm[i][t][k][s];
                            out += state[i][k][q][s] * cm[i][t][k][s];
                        }
                        y[i][t][k][q] = out;
                    }
                }
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            for (int chunk : List.of(1, 2, 3, 4, 5, 11, 16)) {
                Ssd.Result res = Ssd.scan(m.create(flat(x)).reshape(b, l, h, p), m.create(flat(dt)).reshape(b, l, h),
                        m.create(toFloat(a)), m.create(flat(bm)).reshape(b, l, h, n), m.create(flat(cm)).reshape(b, l, h, n),
                        m.create(flat(h0)).reshape(b, h, p, n), chunk);
                assertEquals(new Shape(b, l, h, p), res.y().getShape());
                assertArrayEquals(flat(y), res.y().toFloatArray(), 1e-4f, "outputs, chunk " + chunk);
                assertArrayEquals(flat(state), res.finalState().toFloatArray(), 1e-4f, "final state, chunk " + chunk);
            }
            // From a zero state (null), as a fresh prompt starts.
            Ssd.Result fresh = Ssd.scan(m.create(flat(x)).reshape(b, l, h, p), m.create(flat(dt)).reshape(b, l, h),
                    m.create(toFloat(a)), m.create(flat(bm)).reshape(b, l, h, n), m.create(flat(cm)).reshape(b, l, h, n),
                    null, 4);
            NDArray withZero = Ssd.scan(m.create(flat(x)).reshape(b, l, h, p), m.create(flat(dt)).reshape(b, l, h),
                    m.create(toFloat(a)), m.create(flat(bm)).reshape(b, l, h, n), m.create(flat(cm)).reshape(b, l, h, n),
                    m.zeros(new Shape(b, h, p, n)), 3).y();
            assertArrayEquals(withZero.toFloatArray(), fresh.y().toFloatArray(), 1e-5f);
        }
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    static float[] flat(Object array) {
        java.util.List<Float> out = new java.util.ArrayList<>();
        collect(array, out);
        float[] f = new float[out.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = out.get(i);
        }
        return f;
    }

    private static void collect(Object a, java.util.List<Float> out) {
        if (a instanceof double[] d) {
            for (double v : d) {
                out.add((float) v);
            }
        } else {
            for (Object o : (Object[]) a) {
                collect(o, out);
            }
        }
    }
}
