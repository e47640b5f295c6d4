package ai.nuri.text;

import java.util.Arrays;

/**
 * Turns a growing list of token ids into text deltas that are always complete UTF-8. Byte-level
 * BPE splits a Hangul syllable (3 bytes) across tokens; decoding such a prefix yields U+FFFD, so
 * the text is held back until the following tokens complete it. Only a short window of recent
 * tokens is decoded per step (vLLM's prefix/read offsets), not the whole sequence.
 *
 * <p>Invariant: the concatenation of every delta plus {@link #flush()} equals
 * {@code tokenizer.decode(allIds, skipSpecialTokens)}.
 */
public final class IncrementalDetokenizer {
    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] ids = new int[64];
    private int count;
    private int prefixOffset;
    private int readOffset;

    public IncrementalDetokenizer(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one token; returns the newly completed text (possibly empty). */
    public String add(int token) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = token;
        String prefixText = tokenizer.decode(ids, prefixOffset, readOffset, skipSpecialTokens);
        String newText = tokenizer.decode(ids, prefixOffset, count, skipSpecialTokens);
        if (newText.length() > prefixText.length() && newText.charAt(newText.length() - 1) != REPLACEMENT
                && newText.startsWith(prefixText)) {
            prefixOffset = readOffset;
            readOffset = count;
            return newText.substring(prefixText.length());
        }
        return "";
    }

    /** The text still held back at the end of generation (an incomplete character decodes to U+FFFD). */
    public String flush() {
        String prefixText = tokenizer.decode(ids, prefixOffset, readOffset, skipSpecialTokens);
        String rest = tokenizer.decode(ids, prefixOffset, count, skipSpecialTokens);
        prefixOffset = readOffset = count;
        return rest.startsWith(prefixText) ? rest.substring(prefixText.length()) : rest;
    }
}
