package ai.nuri.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Each filter against distributions computed by hand. */
class SamplerTest {
    private static SamplingParams params(double temperature, double topP, int topK, double minP) {
        return new SamplingParams(temperature, topP, topK, minP, 1, 0, 0, null, 10, List.of(), List.of(), false);
    }

    private static final float[] LOGITS = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15),
            (float) Math.log(0.05)};

    @Test
    void temperatureOneIsTheSoftmax() {
        assertArrayEquals(new double[] {0.5, 0.3, 0.15, 0.05}, Sampler.probabilities(LOGITS.clone(), params(1, 1, 0, 0)), 1e-7);
    }

    @Test
    void temperatureSharpens() {
        // T = 0.5 squares the probabilities before renormalising: 0.25, 0.09, 0.0225, 0.0025 over 0.365.
        double z = 0.25 + 0.09 + 0.0225 + 0.0025;
        assertArrayEquals(new double[] {0.25 / z, 0.09 / z, 0.0225 / z, 0.0025 / z},
                Sampler.probabilities(LOGITS.clone(), params(0.5, 1, 0, 0)), 1e-7);
    }

    @Test
    void topKKeepsTheKMostLikely() {
        assertArrayEquals(new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0}, Sampler.probabilities(LOGITS.clone(), params(1, 1, 2, 0)), 1e-7);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // 0.5 + 0.3 = 0.8 >= 0.75: the first two survive.
        assertArrayEquals(new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0}, Sampler.probabilities(LOGITS.clone(), params(1, 0.75, 0, 0)), 1e-7);
        // 0.5 < 0.5000001: needs the second token too.
        assertArrayEquals(new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0}, Sampler.probabilities(LOGITS.clone(), params(1, 0.5000001, 0, 0)), 1e-7);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTop() {
        // min_p 0.4: threshold 0.2; 0.15 and 0.05 go.
        assertArrayEquals(new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0}, Sampler.probabilities(LOGITS.clone(), params(1, 1, 0, 0.4)), 1e-7);
    }

    @Test
    void penalties() {
        float[] logits = {2f, -2f, 1f, 0.5f};
        BitSet seen = new BitSet();
        seen.set(0);
        seen.set(1);
        Map<Integer, Integer> counts = new HashMap<>(Map.of(2, 3));
        SamplingParams p = new SamplingParams(0, 1, 0, 0, 2.0, 0.5, 0.25, null, 10, List.of(), List.of(), false);
        Sampler.applyPenalties(logits, p, seen, counts);
        // Repetition: positive logits divided, negative multiplied. Frequency 0.5 * 3 + presence 0.25 on token 2.
        assertArrayEquals(new float[] {1f, -4f, 1f - 1.75f, 0.5f}, logits, 1e-6f);
    }

    @Test
    void greedyTakesTheArgmax() {
        // (Seeded reproducibility is shown end to end in DemoModelTest: same seed same tokens, another seed others.)
        assertEquals(0, Sampler.sample(LOGITS.clone(), params(0, 1, 0, 0), new BitSet(), Map.of(), new SplittableRandom(1)));
        float[] shifted = {0.1f, 2.5f, 2.4f, -1f};
        assertEquals(1, Sampler.sample(shifted, params(0, 1, 0, 0), new BitSet(), Map.of(), new SplittableRandom(1)));
    }

    @Test
    void samplingFollowsTheDistribution() {
        SplittableRandom r = new SplittableRandom(7);
        int[] counts = new int[4];
        int n = 20000;
        for (int i = 0; i < n; i++) {
            counts[Sampler.sample(LOGITS.clone(), params(1, 1, 0, 0), new BitSet(), Map.of(), r)]++;
        }
        double[] expected = {0.5, 0.3, 0.15, 0.05};
        for (int i = 0; i < 4; i++) {
            // 5 standard deviations of a binomial proportion at n = 20000.
            double sd = Math.sqrt(expected[i] * (1 - expected[i]) / n);
            assertEquals(expected[i], counts[i] / (double) n, 5 * sd, "token " + i);
        }
    }

    @Test
    void outOfRangeParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> params(-0.1, 1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> params(1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> params(1, 1.01, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> params(1, 1, 0, 1.5));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy(0));
    }

    /**
     * The fast sampler's distribution equals the naive reference's for random logits (Gaussian, and
     * coarsely quantised so that many values tie; and nearly flat, as an untrained model gives, so
     * that every weight falls in one power-of-two band and top-p cuts inside it) under every
     * combination of the filters, at 50 and 32,000 tokens.
     */
    @Test
    void theDistributionIsTheNaiveReferencesUnderEveryFilter() {
        SplittableRandom random = new SplittableRandom(5);
        int compared = 0;
        for (int vocab : new int[] {50, 32_000}) {
            for (int trial = 0; trial < (vocab == 50 ? 8 : 4); trial++) {
                float[] logits = new float[vocab];
                boolean ties = trial % 2 == 1;
                boolean flat = trial % 4 >= 2;
                for (int i = 0; i < vocab; i++) {
                    double g = random.nextGaussian() * (flat ? 0.1 : 3);
                    logits[i] = ties ? Math.round(g * (flat ? 512 : 2)) / (flat ? 512f : 2f) : (float) g;
                }
                for (double t : new double[] {0.3, 1.0, 1.7}) {
                    for (double topP : new double[] {1.0, 0.95, 0.5, 0.1}) {
                        for (int topK : new int[] {0, 1, 7, 40}) {
                            for (double minP : new double[] {0, 0.05}) {
                                SamplingParams p = params(t, topP, topK, minP);
                                double[] expected = NaiveSampler.probabilities(logits.clone(), p);
                                double[] actual = Sampler.probabilities(logits.clone(), p);
                                for (int i = 0; i < vocab; i++) {
                                    // The sampler's weights are float exponentials (2 ulp), the reference's double.
                                    assertEquals(expected[i], actual[i], 1e-6 * expected[i] + 1e-12,
                                            "token " + i + " of " + vocab + ", " + p);
                                }
                                compared++;
                            }
                        }
                    }
                }
            }
        }
        assertEquals((8 + 4) * 3 * 4 * 4 * 2, compared);
    }

    /** Draws follow the reference distribution (frequencies within 5 standard deviations), and a seed fixes them. */
    @Test
    void drawsFollowTheReferenceAndTheSeedFixesThem() {
        SplittableRandom random = new SplittableRandom(9);
        float[] logits = new float[30];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (random.nextGaussian() * 1.5);
        }
        SamplingParams p = params(0.8, 0.9, 20, 0.02);
        double[] expected = NaiveSampler.probabilities(logits.clone(), p);
        int draws = 60_000;
        int[] counts = new int[logits.length];
        int[] again = new int[200];
        SplittableRandom first = new SplittableRandom(42);
        for (int d = 0; d < draws; d++) {
            int token = Sampler.sample(logits.clone(), p, new BitSet(), Map.of(), first);
            counts[token]++;
            if (d < again.length) {
                again[d] = token;
            }
        }
        for (int i = 0; i < logits.length; i++) {
            double sd = Math.sqrt(expected[i] * (1 - expected[i]) / draws);
            assertEquals(expected[i], counts[i] / (double) draws, 5 * sd + 1e-12, "token " + i);
        }
        SplittableRandom second = new SplittableRandom(42);
        for (int d = 0; d < again.length; d++) {
            assertEquals(again[d], Sampler.sample(logits.clone(), p, new BitSet(), Map.of(), second), "draw " + d);
        }
    }
}
