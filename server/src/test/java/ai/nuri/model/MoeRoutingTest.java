package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/** Grouped top-k routing on hand-made scores, each case worked out by hand. */
class MoeRoutingTest {
    @Test
    void plainTopKUsesTheBiasedScores() {
        HybridConfig.Moe c = new HybridConfig.Moe(4, 2, 8, 8, null, 1, 1, true, 1.0);
        float[] scores = {0.9f, 0.8f, 0.1f, 0.7f};
        // Unbiased: experts 0 and 1. The bias lifts expert 3 above expert 1.
        assertArrayEquals(new int[] {0, 1}, MoeMlp.route(scores, new float[4], 1, c));
        assertArrayEquals(new int[] {3, 0}, MoeMlp.route(scores, new float[] {0, 0, 0, 0.3f}, 1, c));
    }

    @Test
    void onlyTheBestGroupsCompete() {
        // 8 experts in 4 groups of 2; keep 2 groups (scored by the sum of their two experts); take 3 experts.
        HybridConfig.Moe c = new HybridConfig.Moe(8, 3, 8, 8, null, 4, 2, false, 1.0);
        float[] scores = {
            0.95f, 0.05f,  // group 0: 1.00, holds the single best expert
            0.60f, 0.60f,  // group 1: 1.20
            0.55f, 0.55f,  // group 2: 1.10
            0.50f, 0.52f}; // group 3: 1.02
        // Groups 1 and 2 win, so expert 0 (0.95) is out despite its score.
        assertArrayEquals(new int[] {2, 3, 4}, MoeMlp.route(scores, new float[8], 1, c));
        // Two tokens are routed independently.
        float[] two = new float[16];
        System.arraycopy(scores, 0, two, 0, 8);
        float[] second = {0.9f, 0.9f, 0.1f, 0.1f, 0.1f, 0.1f, 0.3f, 0.8f};
        System.arraycopy(second, 0, two, 8, 8);
        assertArrayEquals(new int[] {2, 3, 4, 0, 1, 7}, MoeMlp.route(two, new float[8], 2, c));
    }
}
