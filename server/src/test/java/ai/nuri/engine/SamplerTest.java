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

    /**
     * The one-token test that top-p and min-p by rejection make ({@code Candidates.kept}) agrees with
     * the kept set found the long way, which the test above holds to the naive reference: for every
     * token of 50-token rows and, at 32,000, for the tokens nearest the cut on either side and a
     * random few hundred, on Gaussian, tied and near-flat rows.
     */
    @Test
    void rejectionKeepsExactlyTheTokensTheFiltersKeep() {
        SplittableRandom random = new SplittableRandom(11);
        int checked = 0;
        for (int vocab : new int[] {50, 32_000}) {
            for (int trial = 0; trial < 4; trial++) {
                boolean ties = trial % 2 == 1;
                boolean flat = trial >= 2;
                float[] logits = new float[vocab];
                for (int i = 0; i < vocab; i++) {
                    double g = random.nextGaussian() * (flat ? 0.1 : 3);
                    logits[i] = ties ? Math.round(g * (flat ? 512 : 2)) / (flat ? 512f : 2f) : (float) g;
                }
                for (double topP : new double[] {1.0, 0.95, 0.5, 0.1}) {
                    for (int topK : new int[] {0, 7}) {
                        for (double minP : new double[] {0, 0.05, 0.9}) {
                            SamplingParams p = params(0.7, topP, topK, minP);
                            Sampler.Candidates c = Sampler.candidates(logits, p);
                            Sampler.Distribution d = Sampler.filter(c, p);
                            java.util.Set<Integer> keptIds = new java.util.HashSet<>();
                            for (int k = 0; k < d.size(); k++) {
                                keptIds.add(d.id(k));
                            }
                            for (int k : tokensToCheck(c, random)) {
                                assertEquals(keptIds.contains(c.id(k)), c.kept(k, topP, minP),
                                        "token " + c.id(k) + " of " + vocab + ", trial " + trial + ", " + p);
                                checked++;
                            }
                        }
                    }
                }
            }
        }
        assertEquals(true, checked > 20_000, checked + " checked");
    }

    /** Every candidate of a small row; of a large one the 64 on either side of each weight rank's quantiles, and 200 at random. */
    private static int[] tokensToCheck(Sampler.Candidates c, SplittableRandom random) {
        if (c.size() <= 64) {
            return java.util.stream.IntStream.range(0, c.size()).toArray();
        }
        Integer[] byWeight = new Integer[c.size()];
        for (int k = 0; k < c.size(); k++) {
            byWeight[k] = k;
        }
        java.util.Arrays.sort(byWeight, (a, b) -> Float.compare(c.weights()[b], c.weights()[a]) != 0
                ? Float.compare(c.weights()[b], c.weights()[a]) : Integer.compare(a, b));
        java.util.Set<Integer> picked = new java.util.TreeSet<>();
        // The cut of top-p at 0.1, 0.5 and 0.95 of the mass lies somewhere in rank order: walk the
        // ranks, and take 64 either side of where each fraction of the mass is reached.
        double cumulative = 0;
        int[] at = new int[3];
        double[] fractions = {0.1, 0.5, 0.95};
        for (int r = 0, f = 0; r < byWeight.length && f < 3; r++) {
            cumulative += c.weights()[byWeight[r]];
            while (f < 3 && cumulative >= fractions[f] * c.total()) {
                at[f++] = r;
            }
        }
        for (int cut : at) {
            for (int r = Math.max(0, cut - 64); r < Math.min(byWeight.length, cut + 64); r++) {
                picked.add(byWeight[r]);
            }
        }
        for (int j = 0; j < 200; j++) {
            picked.add(random.nextInt(c.size()));
        }
        return picked.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Draws by rejection alone, by the kept set alone (no rejection tries) and as served (a few tries,
     * then the kept set) all follow the naive reference, on a peaked row and a near-flat one where
     * top-p 0.3 rejects most draws.
     */
    @Test
    void drawsByRejectionByTheKeptSetAndAsServedFollowTheReference() {
        SplittableRandom random = new SplittableRandom(13);
        for (boolean flat : new boolean[] {false, true}) {
            float[] logits = new float[60];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) (random.nextGaussian() * (flat ? 0.2 : 1.5));
            }
            for (SamplingParams p : List.of(params(0.9, 0.3, 0, 0), params(1.2, 0.9, 0, 0.1), params(1, 1, 0, 0.5))) {
                double[] expected = NaiveSampler.probabilities(logits.clone(), p);
                for (int tries : new int[] {1_000_000, 0, Sampler.REJECTION_TRIES}) {
                    int draws = 40_000;
                    int[] counts = new int[logits.length];
                    SplittableRandom r = new SplittableRandom(21);
                    for (int d = 0; d < draws; d++) {
                        counts[Sampler.sample(logits.clone(), p, new BitSet(), Map.of(), r, tries)]++;
                    }
                    for (int i = 0; i < logits.length; i++) {
                        double sd = Math.sqrt(expected[i] * (1 - expected[i]) / draws);
                        assertEquals(expected[i], counts[i] / (double) draws, 5 * sd + 1e-12,
                                "token " + i + ", flat " + flat + ", tries " + tries + ", " + p);
                    }
                }
            }
        }
    }
}
