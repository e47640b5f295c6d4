package ai.nuri.engine;

import java.util.Arrays;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Picks the next token from one sequence's logits, in Java: the vocabulary row is already on the
 * heap after the step's single device-to-host copy, and per-element work here costs far less
 * than a dozen tiny NDArray calls. Order as in vLLM: repetition penalty (prompt and output),
 * frequency and presence penalties (output), temperature, top-k, top-p, min-p, then a draw.
 */
public final class Sampler {
    private Sampler() {}

    /**
     * @param logits       one row of logits; modified in place
     * @param seenTokens   ids present in the prompt or the output so far (repetition penalty)
     * @param outputCounts count of each id in the output so far (frequency/presence penalties)
     */
    public static int sample(float[] logits, SamplingParams p, java.util.BitSet seenTokens,
            Map<Integer, Integer> outputCounts, RandomGenerator random) {
        applyPenalties(logits, p, seenTokens, outputCounts);
        if (p.isGreedy()) {
            return argmax(logits);
        }
        double[] probs = probabilities(logits, p);
        double r = random.nextDouble();
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] > 0) {
                cumulative += probs[i];
                last = i;
                if (r < cumulative) {
                    return i;
                }
            }
        }
        return last; // rounding left r just above the total
    }

    /**
     * Keeps only the tokens a constraint allows ({@code allowed}: bit i for token i) plus
     * {@code alsoAllowed} (end-of-sequence where the text may end); the rest get -infinity.
     * Returns false if nothing is left to sample.
     */
    public static boolean constrain(float[] logits, long[] allowed, int[] alsoAllowed) {
        float[] kept = new float[alsoAllowed.length];
        for (int k = 0; k < alsoAllowed.length; k++) {
            kept[k] = logits[alsoAllowed[k]];
        }
        boolean any = alsoAllowed.length > 0;
        for (int w = 0; w < allowed.length; w++) {
            long bits = allowed[w];
            int base = w << 6;
            int end = Math.min(base + 64, logits.length);
            if (bits == -1L) {
                any = true;
                continue;
            }
            for (int i = base; i < end; i++) {
                if ((bits & (1L << i)) == 0) {
                    logits[i] = Float.NEGATIVE_INFINITY;
                } else {
                    any = true;
                }
            }
        }
        for (int i = allowed.length << 6; i < logits.length; i++) {
            logits[i] = Float.NEGATIVE_INFINITY;
        }
        for (int k = 0; k < alsoAllowed.length; k++) {
            logits[alsoAllowed[k]] = kept[k];
        }
        return any;
    }

    static void applyPenalties(float[] logits, SamplingParams p, java.util.BitSet seen, Map<Integer, Integer> counts) {
        if (p.repetitionPenalty() != 1.0) {
            float rp = (float) p.repetitionPenalty();
            for (int id = seen.nextSetBit(0); id >= 0 && id < logits.length; id = seen.nextSetBit(id + 1)) {
                logits[id] = logits[id] > 0 ? logits[id] / rp : logits[id] * rp;
            }
        }
        if (p.frequencyPenalty() != 0 || p.presencePenalty() != 0) {
            for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
                int id = e.getKey();
                if (id < logits.length) {
                    logits[id] -= (float) (p.frequencyPenalty() * e.getValue() + p.presencePenalty());
                }
            }
        }
    }

    /** The distribution sampling draws from, after temperature, top-k, top-p and min-p. */
    static double[] probabilities(float[] logits, SamplingParams p) {
        int n = logits.length;
        double[] scaled = new double[n];
        for (int i = 0; i < n; i++) {
            scaled[i] = logits[i] / p.temperature();
        }
        if (p.topK() > 0 && p.topK() < n) {
            double kth = kthLargest(scaled, p.topK());
            for (int i = 0; i < n; i++) {
                if (scaled[i] < kth) {
                    scaled[i] = Double.NEGATIVE_INFINITY;
                }
            }
            enforceTopK(scaled, p.topK(), kth);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double v : scaled) {
            max = Math.max(max, v);
        }
        double[] probs = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = scaled[i] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(scaled[i] - max);
            sum += probs[i];
        }
        for (int i = 0; i < n; i++) {
            probs[i] /= sum;
        }
        if (p.topP() < 1.0) {
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> probs[b] != probs[a] ? Double.compare(probs[b], probs[a]) : Integer.compare(a, b));
            double cumulative = 0;
            boolean cut = false;
            for (int idx : order) {
                if (cut) {
                    probs[idx] = 0;
                } else {
                    cumulative += probs[idx];
                    cut = cumulative >= p.topP();
                }
            }
        }
        if (p.minP() > 0) {
            double top = 0;
            for (double v : probs) {
                top = Math.max(top, v);
            }
            double threshold = p.minP() * top;
            for (int i = 0; i < n; i++) {
                if (probs[i] < threshold) {
                    probs[i] = 0;
                }
            }
        }
        double total = 0;
        for (double v : probs) {
            total += v;
        }
        for (int i = 0; i < n; i++) {
            probs[i] /= total;
        }
        return probs;
    }

    /** Of the values tied at the k-th largest, keeps only as many (lowest ids first) as make k. */
    private static void enforceTopK(double[] scaled, int k, double kth) {
        int greater = 0;
        for (double v : scaled) {
            if (v > kth) {
                greater++;
            }
        }
        int tiesAllowed = k - greater;
        for (int i = 0; i < scaled.length; i++) {
            if (scaled[i] == kth) {
                if (tiesAllowed > 0) {
                    tiesAllowed--;
                } else {
                    scaled[i] = Double.NEGATIVE_INFINITY;
                }
            }
        }
    }

    private static double kthLargest(double[] values, int k) {
        double[] copy = values.clone();
        Arrays.sort(copy);
        return copy[copy.length - k];
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
