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

    /** Draws taken from the unfiltered candidates before top-p and min-p find their kept set the long way. */
    static final int REJECTION_TRIES = 4;

    /**
     * @param logits       one row of logits; modified in place
     * @param seenTokens   ids present in the prompt or the output so far (repetition penalty)
     * @param outputCounts count of each id in the output so far (frequency/presence penalties)
     */
    public static int sample(float[] logits, SamplingParams p, java.util.BitSet seenTokens,
            Map<Integer, Integer> outputCounts, RandomGenerator random) {
        return sample(logits, p, seenTokens, outputCounts, random, REJECTION_TRIES);
    }

    /**
     * Top-p and min-p by rejection first: a token drawn from the candidates as they are, and kept
     * only if the filters would keep it, is a draw from the filtered distribution exactly (the
     * filtered weights are the same weights, renormalised). Checking one token costs one pass
     * (the mass of the tokens ranked above it), where finding the whole kept set costs several and
     * a partial sort; top-p accepts with probability at least {@code top_p}. After
     * {@code rejectionTries} refusals (a small top-p, a min-p that drops most of the mass) the kept
     * set is found and drawn from: exact either way.
     */
    static int sample(float[] logits, SamplingParams p, java.util.BitSet seenTokens, Map<Integer, Integer> outputCounts,
            RandomGenerator random, int rejectionTries) {
        applyPenalties(logits, p, seenTokens, outputCounts);
        if (p.isGreedy()) {
            return argmax(logits);
        }
        Candidates c = candidates(logits, p);
        if (!(p.topP() < 1.0 || p.minP() > 0)) {
            return c.id(c.draw(random));
        }
        for (int t = 0; t < rejectionTries; t++) {
            int k = c.draw(random);
            if (c.kept(k, p.topP(), p.minP())) {
                return c.id(k);
            }
        }
        Distribution d = filter(c, p);
        double r = random.nextDouble() * d.total();
        double cumulative = 0;
        int last = -1;
        for (int k = 0; k < d.size(); k++) { // in id order, as a draw over the whole vocabulary would go
            double w = d.weights()[k];
            if (w > 0) {
                cumulative += w;
                last = k;
                if (r < cumulative) {
                    return d.id(k);
                }
            }
        }
        return d.id(last); // rounding left r just above the total: the last token with any weight
    }

    /**
     * The tokens a draw may pick before top-p and min-p: after top-k ({@code ids} in id order; null:
     * the whole vocabulary) with their unnormalised weights {@code exp((logit - max) / T)} as floats
     * (the most likely weighs 1), summing to {@code total}; {@code blockMass[b]} is the mass of
     * weights [b·BLOCK, (b+1)·BLOCK). Sums run in four interleaved partial sums: one running sum
     * over the vocabulary is a chain of dependent additions, the slowest part of a row here.
     */
    record Candidates(int[] ids, float[] weights, int size, double[] blockMass, double total) {
        static final int BLOCK = 64;

        static Candidates of(int[] ids, float[] weights, int size) {
            double[] blockMass = new double[(size + BLOCK - 1) / BLOCK];
            double total = 0;
            for (int b = 0; b < blockMass.length; b++) {
                blockMass[b] = mass(weights, b * BLOCK, Math.min(size, (b + 1) * BLOCK), 0f, true);
                total += blockMass[b];
            }
            return new Candidates(ids, weights, size, blockMass, total);
        }

        int id(int k) {
            return ids == null ? k : ids[k];
        }

        /**
         * One candidate, by weight: where a uniform point of the total mass falls, found block by
         * block, then token by token inside its block (in id order, as a draw over the whole
         * vocabulary would go).
         */
        int draw(RandomGenerator random) {
            double r = random.nextDouble() * total;
            double cumulative = 0;
            int b = 0;
            for (; b < blockMass.length - 1 && !(r < cumulative + blockMass[b]); b++) {
                cumulative += blockMass[b];
            }
            int last = -1;
            for (int k = b * BLOCK, end = Math.min(size, k + BLOCK); k < end; k++) {
                float w = weights[k];
                if (w > 0) {
                    cumulative += w;
                    last = k;
                    if (r < cumulative) {
                        return k;
                    }
                }
            }
            // Rounding left r just past what the block's tokens add up to: its last token with any weight,
            // or the last such token before it.
            for (int k = b * BLOCK - 1; last < 0 && k >= 0; k--) {
                last = weights[k] > 0 ? k : -1;
            }
            return last;
        }

        /**
         * Whether top-p and min-p keep candidate k: its weight is at least min-p of the top one, and
         * the mass ranked above it (heavier, or as heavy at a lower id) is under {@code top_p} of the
         * total, as {@link Sampler#filter} decides it by walking down from the top.
         */
        boolean kept(int k, double topP, double minP) {
            float w = weights[k];
            if (w < minP) {
                return false;
            }
            if (topP >= 1.0) {
                return true;
            }
            double above = mass(weights, 0, k, w, true) + mass(weights, k + 1, size, w, false);
            return above < topP * total;
        }

        /**
         * The mass of weights[from, to) over {@code w} (or equal to it, {@code orEqual}), without a
         * branch: a near-flat row puts half its weights on either side of w, unpredictably. Weights
         * are non-negative floats, which order as their bits; {@code (limit - bits) >> 31} is all
         * ones exactly where a weight's bits exceed the limit, and masks the others to +0.
         */
        private static double mass(float[] weights, int from, int to, float w, boolean orEqual) {
            int limit = Float.floatToRawIntBits(w) - (orEqual ? 1 : 0);
            double a0 = 0;
            double a1 = 0;
            double a2 = 0;
            double a3 = 0;
            int j = from;
            for (; j + 3 < to; j += 4) {
                a0 += over(weights[j], limit);
                a1 += over(weights[j + 1], limit);
                a2 += over(weights[j + 2], limit);
                a3 += over(weights[j + 3], limit);
            }
            for (; j < to; j++) {
                a0 += over(weights[j], limit);
            }
            return (a0 + a1) + (a2 + a3);
        }

        private static float over(float v, int limit) {
            int bits = Float.floatToRawIntBits(v);
            return Float.intBitsToFloat(bits & ((limit - bits) >> 31));
        }
    }

    /**
     * What a draw picks from: the candidate tokens in id order ({@code ids} null: the whole
     * vocabulary) and their unnormalised weights ({@code exp((logit - max) / T)}, so the most likely
     * has weight 1, 0 for a token that cannot be drawn), summing to {@code total}.
     */
    record Distribution(int[] ids, double[] weights, int size, double total) {
        int id(int k) {
            return ids == null ? k : ids[k];
        }

        /** As probabilities over the whole vocabulary (for tests). */
        double[] dense(int vocab) {
            double[] out = new double[vocab];
            for (int k = 0; k < size; k++) {
                out[id(k)] += weights[k] / total;
            }
            return out;
        }
    }

    /** The distribution sampling draws from, after temperature, top-k, top-p and min-p, over the whole vocabulary. */
    static double[] probabilities(float[] logits, SamplingParams p) {
        return distribution(logits, p).dense(logits.length);
    }

    /**
     * Temperature, top-k, top-p and min-p without sorting the vocabulary or boxing a number: top-k
     * by a bounded heap; top-p by a histogram of the weights' binary exponents, which finds in one
     * pass the few tokens that can make up {@code top_p} of the mass, so only those are sorted.
     */
    static Distribution distribution(float[] logits, SamplingParams p) {
        return filter(candidates(logits, p), p);
    }

    /** Temperature and top-k: the weights' exponentials in float, in SIMD lanes where the JVM allows. */
    static Candidates candidates(float[] logits, SamplingParams p) {
        int n = logits.length;
        int[] ids = null; // the candidates in id order; null: the whole vocabulary
        int size = n;
        if (p.topK() > 0 && p.topK() < n) {
            ids = topK(logits, p.topK());
            Arrays.sort(ids);
            size = ids.length;
        }
        float max;
        if (ids == null) {
            max = max(logits);
        } else {
            max = Float.NEGATIVE_INFINITY;
            for (int id : ids) {
                max = Math.max(max, logits[id]);
            }
        }
        float[] weights = new float[size];
        FloatExp.weights(logits, ids, size, max, (float) (1.0 / p.temperature()), weights);
        return Candidates.of(ids, weights, size);
    }

    /** The largest logit (NaN if any is): in SIMD lanes, or in four running maxima (one is a chain of dependent steps). */
    static float max(float[] logits) {
        if (VectorExp.AVAILABLE) {
            return VectorExp.max(logits);
        }
        float m0 = Float.NEGATIVE_INFINITY;
        float m1 = m0;
        float m2 = m0;
        float m3 = m0;
        int k = 0;
        for (; k + 3 < logits.length; k += 4) {
            m0 = Math.max(m0, logits[k]);
            m1 = Math.max(m1, logits[k + 1]);
            m2 = Math.max(m2, logits[k + 2]);
            m3 = Math.max(m3, logits[k + 3]);
        }
        for (; k < logits.length; k++) {
            m0 = Math.max(m0, logits[k]);
        }
        return Math.max(Math.max(m0, m1), Math.max(m2, m3));
    }

    /** Top-p and min-p applied to the candidates: the tokens they keep, and their weights. */
    static Distribution filter(Candidates c, SamplingParams p) {
        int[] ids = c.ids();
        int size = c.size();
        // Each weight's band, for top-p, and the bands' mass: band b holds weights in [2^-(b+1), 2^-b).
        double[] weights = new double[size];
        boolean topP = p.topP() < 1.0;
        byte[] bands = topP ? new byte[size] : null;
        double[] massByBand = topP ? new double[EXPONENT_BUCKETS] : null;
        double total = c.total();
        for (int k = 0; k < size; k++) {
            double w = c.weights()[k];
            weights[k] = w;
            if (topP && w > 0) {
                int b = bucket(w);
                bands[k] = (byte) b;
                massByBand[b] += w;
            }
        }
        boolean[] inTopP = topP ? topP(weights, bands, size, total, p.topP(), massByBand) : null;
        double minWeight = p.minP(); // min-p: relative to the top weight, which is 1
        if (inTopP == null && minWeight == 0) {
            return new Distribution(ids, weights, size, total); // nothing filtered: draw from the weights as they are
        }
        int[] keptIds = new int[size];
        double[] keptWeights = new double[size];
        int kept = 0;
        double keptTotal = 0;
        for (int k = 0; k < size; k++) {
            double w = weights[k];
            if (w > 0 && w >= minWeight && (inTopP == null || inTopP[k])) {
                keptIds[kept] = ids == null ? k : ids[k];
                keptWeights[kept] = w;
                keptTotal += w;
                kept++;
            }
        }
        return new Distribution(keptIds, keptWeights, kept, keptTotal);
    }

    private static final int EXPONENT_BUCKETS = 64;

    /**
     * Which power-of-two band a weight in (0, 1] falls in: 0 for [0.5, 1], 63 for everything below
     * 2^-63. Taken from the weight as a float, as the ranking keys are, so bands and slices order
     * tokens exactly as their keys do.
     */
    private static int bucket(double w) {
        return Math.min(EXPONENT_BUCKETS - 1, Math.max(0, -Math.getExponent((float) w) - 1));
    }

    /**
     * Which candidates top-p keeps: taken from the most likely down (ties: lowest id first) until
     * their mass reaches {@code topP} of the total. The exponent histogram finds the band where
     * the mass is reached; every band above it is kept whole. Within that band a second histogram
     * over the top mantissa bits finds the slice where it is reached; the slices above are kept
     * whole and only that one slice is sorted, as primitive keys. A near-flat distribution (tens
     * of thousands of tokens in one band) so sorts a few dozen. {@code bands} holds each positive
     * weight's band, {@code massByBand} the bands' mass.
     */
    private static boolean[] topP(double[] weights, byte[] bands, int size, double total, double topP,
            double[] massByBand) {
        double target = topP * total;
        double above = 0; // mass of the bands kept whole
        int band = 0;
        for (; band < EXPONENT_BUCKETS - 1 && above + massByBand[band] < target; band++) {
            above += massByBand[band];
        }
        double[] massBySlice = new double[MANTISSA_SLICES];
        int[] countBySlice = new int[MANTISSA_SLICES];
        for (int k = 0; k < size; k++) {
            double w = weights[k];
            if (w > 0 && bands[k] == band) {
                int s = slice(w, band);
                massBySlice[s] += w;
                countBySlice[s]++;
            }
        }
        int cut = MANTISSA_SLICES - 1;
        for (; cut > 0 && above + massBySlice[cut] < target; cut--) {
            above += massBySlice[cut];
        }
        boolean[] keep = new boolean[size];
        long[] keys = new long[countBySlice[cut]];
        int c = 0;
        for (int k = 0; k < size; k++) {
            double w = weights[k];
            if (w > 0 && bands[k] <= band) {
                int s = bands[k] < band ? MANTISSA_SLICES : slice(w, band); // a band above: kept whole
                if (s > cut) {
                    keep[k] = true;
                } else if (s == cut) {
                    // The weight in the high bits (positive floats order as their bits), then the lower position
                    // (= lower id) first among equal weights.
                    keys[c++] = ((long) Float.floatToIntBits((float) w) << 32) | (Integer.MAX_VALUE - k);
                }
            }
        }
        Arrays.sort(keys, 0, c);
        double cumulative = above;
        for (int j = c - 1; j >= 0 && cumulative < target; j--) {
            int k = Integer.MAX_VALUE - (int) (keys[j] & 0xFFFFFFFFL);
            keep[k] = true;
            cumulative += weights[k];
        }
        return keep;
    }

    private static final int MANTISSA_SLICES = 1024;

    /**
     * Which of 1,024 equal slices of its power-of-two band a weight falls in, by its top mantissa
     * bits, so that a higher slice holds higher weights. Band 0 also holds the top weight, 1, in
     * its top slice; the last band gathers every smaller exponent, so it is one slice.
     */
    private static int slice(double w, int band) {
        if (band == EXPONENT_BUCKETS - 1) {
            return 0;
        }
        float f = (float) w;
        if (Math.getExponent(f) != -band - 1) {
            return MANTISSA_SLICES - 1;
        }
        return (Float.floatToRawIntBits(f) >>> 13) & (MANTISSA_SLICES - 1);
    }

    /** The ids of the k largest logits (ties: lowest ids), by a bounded min-heap: O(n log k), no boxing. */
    static int[] topK(float[] logits, int k) {
        int[] heap = new int[k]; // ids; the root is the weakest kept: lowest logit, then highest id
        int size = 0;
        for (int i = 0; i < logits.length; i++) {
            if (size < k) {
                heap[size] = i;
                siftUp(heap, size++, logits);
            } else if (stronger(i, heap[0], logits)) {
                heap[0] = i;
                siftDown(heap, k, logits);
            }
        }
        return Arrays.copyOf(heap, size);
    }

    /** Whether token a ranks above token b: a higher logit, or the same and a lower id. */
    private static boolean stronger(int a, int b, float[] logits) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    }

    private static void siftUp(int[] heap, int i, float[] logits) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!stronger(heap[parent], heap[i], logits)) {
                return;
            }
            int t = heap[parent];
            heap[parent] = heap[i];
            heap[i] = t;
            i = parent;
        }
    }

    private static void siftDown(int[] heap, int size, float[] logits) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            int r = l + 1;
            int weakest = i;
            if (l < size && stronger(heap[weakest], heap[l], logits)) {
                weakest = l;
            }
            if (r < size && stronger(heap[weakest], heap[r], logits)) {
                weakest = r;
            }
            if (weakest == i) {
                return;
            }
            int t = heap[weakest];
            heap[weakest] = heap[i];
            heap[i] = t;
            i = weakest;
        }
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
