package ai.nuri.guide;

/**
 * Steps a {@link Grammar} one UTF-8 byte at a time, so that tokens ending inside a character
 * (byte-level BPE splits Hangul syllables: three bytes each) are judged exactly: after a partial
 * character the walk keeps the bytes seen, and a byte is allowed only if some character with that
 * prefix is allowed by the grammar (UTF-8 keeps code point order, so such characters are one range).
 *
 * <p>A walk state is packed in a long: grammar state (bits 0-31), continuation bytes still needed
 * (32-33), the character's encoded length (34-35), and its code point bits so far (36-56).
 */
final class Utf8Walk {
    static final long DEAD = -1;

    private Utf8Walk() {}

    static long start() {
        return 0;
    }

    static int grammarState(long walk) {
        return (int) walk;
    }

    /** No character is half-written. */
    static boolean atBoundary(long walk) {
        return ((walk >>> 32) & 3) == 0;
    }

    private static long pack(int state, int need, int length, int cp) {
        return (state & 0xFFFFFFFFL) | ((long) need << 32) | ((long) length << 34) | ((long) cp << 36);
    }

    static long step(Grammar g, long walk, int b) {
        int state = (int) walk;
        int need = (int) (walk >>> 32) & 3;
        int length = (int) (walk >>> 34) & 3;
        int cp = (int) (walk >>> 36);
        if (need == 0) {
            if (b < 0x80) {
                int next = g.step(state, (char) b);
                return next < 0 ? DEAD : next;
            }
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
                length = 1; // stored as bytes - 1: 2-byte characters
                cp = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                need = 2;
                length = 2;
                cp = b & 0x0F;
            } else if (b >= 0xF0 && b <= 0xF4) {
                need = 3;
                length = 3;
                cp = b & 0x07;
            } else {
                return DEAD; // a stray continuation byte, an overlong lead, or beyond U+10FFFF
            }
        } else {
            if ((b & 0xC0) != 0x80) {
                return DEAD;
            }
            cp = (cp << 6) | (b & 0x3F);
            need--;
            if (need == 0) {
                if (cp < minCodePoint(length) || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
                    return DEAD;
                }
                int next;
                if (cp < 0x10000) {
                    next = g.step(state, (char) cp);
                } else {
                    int high = g.step(state, Character.highSurrogate(cp));
                    next = high < 0 ? -1 : g.step(high, Character.lowSurrogate(cp));
                }
                return next < 0 ? DEAD : next;
            }
        }
        // Partway through a character: allowed if some completion of it is.
        int shift = 6 * need;
        int lo = Math.max(cp << shift, minCodePoint(length));
        int hi = Math.min((cp << shift) | ((1 << shift) - 1), length == 3 ? 0x10FFFF : (1 << (5 * length + 6)) - 1);
        if (lo > hi || (lo >= 0xD800 && hi <= 0xDFFF)) {
            return DEAD;
        }
        return g.allowsAnyCodePointIn(state, lo, hi) ? pack(state, need, length, cp) : DEAD;
    }

    private static int minCodePoint(int length) {
        return switch (length) {
            case 1 -> 0x80;
            case 2 -> 0x800;
            default -> 0x10000;
        };
    }
}
