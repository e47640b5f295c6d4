package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * Rotary position embedding, NeoX ("rotate_half") style, over the first {@code rotaryDim}
 * channels of each head (all of them unless a partial rotary factor is set, as in Nemotron).
 * Inverse frequencies are computed in Java once, with Llama 3 or linear scaling folded in.
 */
public final class RotaryEmbedding {
    private final int rotaryDim;
    private final float[] inverseFrequencies;

    public RotaryEmbedding(int rotaryDim, double theta, RopeScaling scaling) {
        this.rotaryDim = rotaryDim;
        this.inverseFrequencies = inverseFrequencies(rotaryDim, theta, scaling);
    }

    public static RotaryEmbedding of(ModelConfig c) {
        return new RotaryEmbedding(c.rotaryDim(), c.ropeTheta(), c.ropeScaling());
    }

    public int rotaryDim() {
        return rotaryDim;
    }

    public float[] inverseFrequencies() {
        return inverseFrequencies.clone();
    }

    static float[] inverseFrequencies(int dim, double theta, RopeScaling scaling) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            double f = 1.0 / Math.pow(theta, (2.0 * i) / dim);
            if (scaling != null && scaling.type().equals("linear")) {
                f /= scaling.factor();
            } else if (scaling != null && scaling.type().equals("llama3")) {
                f = llama3(f, scaling);
            }
            inv[i] = (float) f;
        }
        return inv;
    }

    /** Llama 3.1: long wavelengths slowed by factor, short ones kept, a smooth blend between. */
    private static double llama3(double f, RopeScaling s) {
        double wavelength = 2 * Math.PI / f;
        double lowFreqWavelength = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highFreqWavelength = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        if (wavelength < highFreqWavelength) {
            return f;
        }
        if (wavelength > lowFreqWavelength) {
            return f / s.factor();
        }
        double smooth = (s.originalMaxPositionEmbeddings() / wavelength - s.lowFreqFactor())
                / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - smooth) * f / s.factor() + smooth * f;
    }

    /**
     * The rotation tables for a step's token positions [T], for rows of {@code heads} heads each
     * (one entry per head count the model's projections have, such as query and key/value heads);
     * computed once and shared by every layer. Rows stay flat, [T, heads * headDim]: a rotation is
     * then one gather and three elementwise ops, with no reshape, slice or concatenation.
     */
    public Angles angles(NDArray positions, DataType dtype, int headDim, int... heads) {
        NDManager m = positions.getManager();
        long t = positions.getShape().get(0);
        // Per channel: its inverse frequency (0 past rotaryDim, so cos 1 and sin 0 leave it as it is) and
        // the sign rotate_half gives its partner: x[j] pairs with -x[j + half] below half, x[j - half] above.
        float[] frequency = new float[headDim];
        float[] sign = new float[headDim];
        int half = rotaryDim / 2;
        for (int j = 0; j < headDim; j++) {
            frequency[j] = j < rotaryDim ? inverseFrequencies[j % half] : 0f;
            sign[j] = j < half ? -1f : 1f;
        }
        NDArray angle = positions.toType(DataType.FLOAT32, false).reshape(t, 1)
                .matMul(m.create(frequency).reshape(1, headDim)); // [T, headDim]
        NDArray cos = angle.cos().toType(dtype, false);
        NDArray sin = angle.sin().mul(m.create(sign)).toType(dtype, false);
        java.util.Map<Integer, Tables> tables = new java.util.HashMap<>();
        for (int h : heads) {
            if (!tables.containsKey(h)) {
                long[] partner = new long[h * headDim];
                for (int head = 0; head < h; head++) {
                    for (int j = 0; j < headDim; j++) {
                        int p = j >= rotaryDim ? j : j < half ? j + half : j - half;
                        partner[head * headDim + j] = (long) head * headDim + p;
                    }
                }
                long[] repeat = {1, h};
                tables.put(h, new Tables(cos.tile(repeat), sin.tile(repeat),
                        m.create(partner).reshape(1, (long) h * headDim).broadcast(t, (long) h * headDim)));
            }
        }
        return new Angles(tables);
    }

    /** A step's rotation for rows of one head count: cos, signed sin and each channel's partner, all [T, heads * headDim]. */
    private record Tables(NDArray cos, NDArray signedSin, NDArray partner) {}

    /** A step's rotation tables by head count. */
    public static final class Angles {
        private final java.util.Map<Integer, Tables> tables;

        private Angles(java.util.Map<Integer, Tables> tables) {
            this.tables = tables;
        }

        /**
         * Rotates x [T, heads * headDim]; channels past rotaryDim pass through unchanged. The same
         * arithmetic as rotate_half (x * cos + rotate_half(x) * sin), element by element.
         */
        public NDArray apply(NDArray x, int heads) {
            return apply(x, heads, false);
        }

        /**
         * As {@link #apply(NDArray, int)}; {@code inference} true computes in place: x itself (a fresh
         * projection nobody else reads) becomes the result.
         */
        public NDArray apply(NDArray x, int heads, boolean inference) {
            Tables t = tables.get(heads);
            if (t == null) {
                throw new IllegalArgumentException("no rotation tables for " + heads + " heads");
            }
            NDArray partners = x.gather(t.partner, 1);
            return inference ? x.muli(t.cos).addi(partners.muli(t.signedSin))
                    : x.mul(t.cos).add(partners.mul(t.signedSin));
        }
    }
}
