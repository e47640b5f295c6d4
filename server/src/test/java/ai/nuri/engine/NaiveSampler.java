package ai.nuri.engine;

import java.util.Arrays;

/**
 * The sampling distribution computed the plain way, as a reference for {@link Sampler}: every
 * filter over the whole vocabulary in doubles, top-k by sorting a copy, top-p by sorting every
 * token id (boxed). Slow and obviously right.
 */
final class NaiveSampler {
    private NaiveSampler() {}

    static double[] probabilities(float[] logits, SamplingParams p) {
        int n = logits.length;
        double[] scaled = new double[n];
        for (int i = 0; i < n; i++) {
            scaled[i] = logits[i] / p.temperature();
        }
        if (p.topK() > 0 && p.topK() < n) {
            double[] copy = scaled.clone();
            Arrays.sort(copy);
            double kth = copy[n - p.topK()];
            int greater = 0;
            for (double v : scaled) {
                greater += v > kth ? 1 : 0;
            }
            int tiesAllowed = p.topK() - greater; // of the values tied at the k-th, the lowest ids make up k
            for (int i = 0; i < n; i++) {
                if (scaled[i] < kth || (scaled[i] == kth && tiesAllowed-- <= 0)) {
                    scaled[i] = Double.NEGATIVE_INFINITY;
                }
            }
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
            double top = Arrays.stream(probs).max().orElse(0);
            for (int i = 0; i < n; i++) {
                if (probs[i] < p.minP() * top) {
                    probs[i] = 0;
                }
            }
        }
        double total = Arrays.stream(probs).sum();
        for (int i = 0; i < n; i++) {
            probs[i] /= total;
        }
        return probs;
    }
}
