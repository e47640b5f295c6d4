package ai.nuri.engine;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Keeps what a sequence generates valid UTF-8. Byte-level vocabularies hold tokens that are single
 * bytes or end inside a character (a Hangul syllable is three bytes); sampling can pick a byte that
 * no character continues with, and the text would then show U+FFFD. Before each draw, tokens that
 * would break the encoding get no probability: at a character boundary, those that start with a
 * continuation byte or hold an impossible one; inside a character, all but those that continue it
 * with a byte its lead allows (UTF-8's rules for overlong forms, surrogates and U+10FFFF
 * included). Special tokens (end of sequence among them) come only at a boundary. A vocabulary of
 * whole characters is never restricted.
 *
 * <p>A state is an int: continuation bytes still needed (bits 0-1) and the range the next one
 * must fall in (low byte at bits 8-15, high at 16-23); 0 is a character boundary.
 */
final class Utf8Guard {
    static final int BOUNDARY = 0;
    private static final int BROKEN = -1;

    private final byte[][] pieces;
    private final BitSet special;
    /** Tokens that can never follow a boundary: they start with a continuation byte or hold an impossible byte. */
    private final int[] refusedAtBoundary;
    /** Of those, the ones that can continue some unfinished character (the only candidates inside one). */
    private final int[] continuations;

    Utf8Guard(byte[][] pieces, BitSet special) {
        this.pieces = pieces;
        this.special = special;
        List<Integer> refused = new ArrayList<>();
        List<Integer> continuing = new ArrayList<>();
        for (int id = 0; id < pieces.length; id++) {
            if (special.get(id) || pieces[id].length == 0) {
                continue;
            }
            if (walk(BOUNDARY, pieces[id]) == BROKEN) {
                refused.add(id);
                // Every unfinished character's state allows a subset of 80-BF next, so a token that
                // continues none of these three continues no character at all.
                for (int need = 1; need <= 3; need++) {
                    if (walk(state(need, 0x80, 0xBF), pieces[id]) != BROKEN) {
                        continuing.add(id);
                        break;
                    }
                }
            }
        }
        refusedAtBoundary = refused.stream().mapToInt(Integer::intValue).toArray();
        continuations = continuing.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The tokens {@link #restrict} refuses at a character boundary (a copy). */
    int[] refusedAtBoundary() {
        return refusedAtBoundary.clone();
    }

    /** Sets the logits of tokens that would break the text's encoding to -infinity. */
    void restrict(float[] logits, int state) {
        if (state == BOUNDARY) {
            for (int id : refusedAtBoundary) {
                if (id < logits.length) {
                    logits[id] = Float.NEGATIVE_INFINITY;
                }
            }
            return;
        }
        int[] allowed = new int[continuations.length];
        float[] kept = new float[continuations.length];
        int n = 0;
        for (int id : continuations) {
            if (id < logits.length && walk(state, pieces[id]) != BROKEN) {
                allowed[n] = id;
                kept[n++] = logits[id];
            }
        }
        if (n == 0) {
            return; // this vocabulary cannot finish the character: better a U+FFFD than no token
        }
        java.util.Arrays.fill(logits, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            logits[allowed[i]] = kept[i];
        }
    }

    /** The state after {@code token}; a token that broke the encoding anyway (restrict could not help) restarts at a boundary. */
    int advance(int state, int token) {
        if (token < 0 || token >= pieces.length || special.get(token)) {
            return BOUNDARY;
        }
        int next = walk(state, pieces[token]);
        return next == BROKEN ? BOUNDARY : next;
    }

    static int walk(int state, byte[] bytes) {
        for (byte value : bytes) {
            state = step(state, value & 0xFF);
            if (state == BROKEN) {
                return BROKEN;
            }
        }
        return state;
    }

    private static int state(int need, int lo, int hi) {
        return need | lo << 8 | hi << 16;
    }

    static int step(int state, int b) {
        int need = state & 3;
        if (need == 0) {
            if (b < 0x80) {
                return BOUNDARY;
            }
            if (b >= 0xC2 && b <= 0xDF) {
                return state(1, 0x80, 0xBF);
            }
            if (b >= 0xE0 && b <= 0xEF) {
                return state(2, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF); // no overlong forms, no surrogates
            }
            if (b >= 0xF0 && b <= 0xF4) {
                return state(3, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF); // no overlong forms, nothing past U+10FFFF
            }
            return BROKEN; // a continuation byte with nothing to continue, C0, C1 or F5-FF
        }
        int lo = state >>> 8 & 0xFF;
        int hi = state >>> 16 & 0xFF;
        if (b < lo || b > hi) {
            return BROKEN;
        }
        return need == 1 ? BOUNDARY : state(need - 1, 0x80, 0xBF);
    }
}
