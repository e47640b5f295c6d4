package ai.nuri.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The sampler's float exponential against Math.exp, and its SIMD lanes against its scalar form, bit for bit. */
class FloatExpTest {

    @Test
    void itIsWithinTwoUlpOfTheTrueValueAndZeroBelowItsRange() {
        for (int i = 0; i <= 2_000_000; i++) {
            float x = -87f * i / 2_000_000;
            double exact = Math.exp(x);
            float got = FloatExp.exp(x);
            assertEquals(exact, got, 2 * Math.ulp((float) exact), "e^" + x);
        }
        assertEquals(1f, FloatExp.exp(0f), "the top weight is exactly 1");
        assertEquals(0f, FloatExp.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, FloatExp.exp(-87.5f));
        assertEquals(0f, FloatExp.exp(Float.NaN));
    }

    @Test
    void theVectorLanesGiveTheScalarBits() {
        assertTrue(VectorExp.AVAILABLE, "the tests run with --add-modules jdk.incubator.vector");
        Random random = new Random(4);
        for (int size : new int[] {1, 7, 8, 31, 1000, 32_003}) {
            float[] logits = new float[size];
            for (int i = 0; i < size; i++) {
                logits[i] = (float) (random.nextGaussian() * 8);
            }
            logits[size / 2] = Float.NEGATIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (float v : logits) {
                max = Math.max(max, v);
            }
            for (float invT : new float[] {1f, 1 / 0.7f, 1 / 0.05f}) {
                float[] vector = new float[size];
                FloatExp.weights(logits, null, size, max, invT, vector);
                for (int k = 0; k < size; k++) {
                    float scalar = FloatExp.exp((logits[k] - max) * invT);
                    assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(vector[k]),
                            "size " + size + " 1/T " + invT + " k " + k);
                }
            }
        }
    }
}
