package ai.nuri.model.vision;

/**
 * A rendered prompt holds one placeholder token per image; the model reads one token per image
 * feature row. This widens each placeholder to its rows, as transformers' LLaVA processor does.
 */
public final class ImageTokens {
    private ImageTokens() {}

    /** How many times {@code token} occurs in {@code ids}. */
    public static int count(int[] ids, int token) {
        int n = 0;
        for (int t : ids) {
            n += t == token ? 1 : 0;
        }
        return n;
    }

    /** {@code ids} with every {@code token} repeated {@code rows} times. */
    public static int[] expand(int[] ids, int token, int rows) {
        int[] out = new int[ids.length + count(ids, token) * (rows - 1)];
        int at = 0;
        for (int t : ids) {
            if (t == token) {
                java.util.Arrays.fill(out, at, at + rows, token);
                at += rows;
            } else {
                out[at++] = t;
            }
        }
        return out;
    }
}
