package ai.nuri.model;

import java.util.Arrays;

/**
 * How a step's caller reads each chunk's logits: copied whole to the heap, or reduced where they
 * lie to the most likely token (a greedy draw), so that only that id leaves the device. {@code
 * excluded}: tokens such a reduction skips, the same for every reduced row (the tokens that could
 * not follow a character boundary, say). Indexed like the step's chunks; a chunk that wants no
 * logits ignores its entry.
 */
public record Readout(boolean[] argmaxOnly, int[] excluded) {

    /** Every row whole: what the step gave before it could reduce rows. */
    public static Readout whole(int chunks) {
        return new Readout(new boolean[chunks], new int[0]);
    }

    public Readout {
        argmaxOnly = argmaxOnly.clone();
        excluded = excluded.clone();
        Arrays.sort(excluded);
    }
}
