package ai.nuri.model;

import ai.djl.ndarray.NDArray;
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

    /** The angles for a step's token positions [T]; computed once and shared by every layer. */
    public Angles angles(NDArray positions, DataType dtype) {
        long t = positions.getShape().get(0);
        NDArray pos = positions.toType(DataType.FLOAT32, false).reshape(t, 1);
        NDArray inv = positions.getManager().create(inverseFrequencies).reshape(1, inverseFrequencies.length);
        NDArray freqs = pos.matMul(inv);
        NDArray emb = freqs.concat(freqs, 1).expandDims(1); // [T, 1, rotaryDim]
        return new Angles(emb.cos().toType(dtype, false), emb.sin().toType(dtype, false), rotaryDim);
    }

    /** cos and sin of each token's angles, [T, 1, rotaryDim], broadcast over heads. */
    public record Angles(NDArray cos, NDArray sin, int rotaryDim) {

        /** Rotates x [T, heads, headDim]; channels past rotaryDim pass through unchanged. */
        public NDArray apply(NDArray x) {
            long headDim = x.getShape().get(2);
            boolean partial = rotaryDim < headDim;
            NDArray rot = partial ? x.get(":, :, :" + rotaryDim) : x;
            int half = rotaryDim / 2;
            NDArray rotatedHalf = rot.get(":, :, " + half + ":").neg().concat(rot.get(":, :, :" + half), 2);
            NDArray out = rot.mul(cos).add(rotatedHalf.mul(sin));
            return partial ? out.concat(x.get(":, :, " + rotaryDim + ":"), 2) : out;
        }
    }
}
