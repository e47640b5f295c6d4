package ai.nuri.model;

import java.util.Arrays;

/**
 * How a step's caller reads each chunk's logits: copied whole to the heap, or reduced where they
 * lie to one token, the most likely (a greedy draw) or one drawn with the chunk's {@link DeviceDraw}
 * ({@link DeviceSampler}), so that only that id leaves the device. {@code
 * excluded}: tokens such a reduction skips, the same for every reduced row (the tokens that could
 * not follow a character boundary, say). Indexed like the step's chunks; a chunk that wants no
 * logits ignores its entry.
 */
public record Readout(boolean[] argmaxOnly, DeviceDraw[] draws, int[] excluded) {

    /** Every row whole: what the step gave before it could reduce rows. */
    public static Readout whole(int chunks) {
        return new Readout(new boolean[chunks], new int[0]);
    }

    /** Greedy rows reduced to their argmax, no rows drawn on the device. */
    public Readout(boolean[] argmaxOnly, int[] excluded) {
        this(argmaxOnly, new DeviceDraw[argmaxOnly.length], excluded);
    }

    public Readout {
        argmaxOnly = argmaxOnly.clone();
        draws = draws.clone();
        excluded = excluded.clone();
        Arrays.sort(excluded);
        if (draws.length != argmaxOnly.length) {
            throw new IllegalArgumentException(draws.length + " draws for " + argmaxOnly.length + " chunks");
        }
    }

    /** Whether chunk i's row is reduced to one token where it lies (its argmax, or a draw). */
    public boolean reduces(int i) {
        return argmaxOnly[i] || draws[i] != null;
    }
}
