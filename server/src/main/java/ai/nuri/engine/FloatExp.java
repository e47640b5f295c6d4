package ai.nuri.engine;

/**
 * e^x in float for the sampler's weights, x ≤ 0: Cephes' expf (a degree-5 polynomial on the
 * remainder after powers of two), within 2 ulp of the true value, 0 below e^-87. Written with
 * only IEEE operations (multiply, add, fused multiply-add, truncation) so that {@link VectorExp}
 * computes bit-identical values in SIMD lanes: a seeded request samples the same tokens whether or
 * not the JVM has the Vector API, and before or after the JIT compiles either.
 */
final class FloatExp {
    static final float LOWEST = -87.0f;
    static final float LOG2E = 1.44269504088896341f;
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    static final float P0 = 1.9875691500e-4f;
    static final float P1 = 1.3981999507e-3f;
    static final float P2 = 8.3334519073e-3f;
    static final float P3 = 4.1665795894e-2f;
    static final float P4 = 1.6666665459e-1f;
    static final float P5 = 5.0000001201e-1f;

    private FloatExp() {}

    /** e^x for x ≤ 0 (−infinity gives 0). */
    static float exp(float x) {
        if (!(x >= LOWEST)) {
            return 0f;
        }
        int n = (int) Math.fma(x, LOG2E, -0.5f); // round to nearest for x ≤ 0: truncation goes toward zero
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        return y * Float.intBitsToFloat((n + 127) << 23);
    }

    /**
     * {@code out[k] = e^((logits[id(k)] - max) · invT)} for the first {@code size} candidates
     * ({@code ids} null: the whole vocabulary in order), in SIMD lanes where the JVM has the Vector API.
     */
    static void weights(float[] logits, int[] ids, int size, float max, float invT, float[] out) {
        int k = ids == null && VectorExp.AVAILABLE ? VectorExp.weights(logits, size, max, invT, out) : 0;
        for (; k < size; k++) {
            out[k] = exp((logits[ids == null ? k : ids[k]] - max) * invT);
        }
    }
}
