package ai.nuri.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The guard against the JDK's own UTF-8 decoder: a token is allowed exactly when the bytes so far stay decodable. */
class Utf8GuardTest {
    /** Every single byte, a few whole characters, and multi-byte pieces that start or end inside characters. */
    static byte[][] vocabulary() {
        List<byte[]> v = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            v.add(new byte[] {(byte) b});
        }
        for (String s : List.of("가", "한국", "a가", "é", "😀", "\u0800", "\uFFFD")) {
            v.add(s.getBytes(StandardCharsets.UTF_8));
        }
        byte[] han = "한".getBytes(StandardCharsets.UTF_8); // ED 95 9C
        v.add(new byte[] {han[1], han[2]});              // the tail of 한
        v.add(new byte[] {han[2], 'x'});                  // its last byte, then ASCII
        v.add(new byte[] {(byte) 0xA0, (byte) 0x80});     // after ED: a surrogate, never valid
        v.add(new byte[] {'a', (byte) 0xEA});             // ends inside a character
        v.add(new byte[] {(byte) 0xF0, (byte) 0x80});     // overlong four-byte form
        v.add(new byte[] {(byte) 0xF4, (byte) 0x90});     // past U+10FFFF
        v.add(new byte[0]);                               // an unused id
        v.add("<|im_end|>".getBytes(StandardCharsets.UTF_8)); // special
        return v.toArray(byte[][]::new);
    }

    /**
     * Can these bytes still be the start of valid UTF-8? Asked of the JDK's decoder as "does some
     * completion decode": the bytes as they are, or followed by up to three continuation bytes. The
     * byte ranges UTF-8 allows after a lead are intervals within 80-BF, so trying their ends
     * (80, 8F, 90, 9F, A0, BF) tries every case.
     */
    static boolean decodablePrefix(byte[] bytes) {
        return completes(bytes, 3);
    }

    private static final int[] CONTINUATION_ENDS = {0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF};

    private static boolean completes(byte[] bytes, int more) {
        if (complete(bytes)) {
            return true;
        }
        if (more == 0) {
            return false;
        }
        for (int b : CONTINUATION_ENDS) {
            if (completes(concat(bytes, new byte[] {(byte) b}), more - 1)) {
                return true;
            }
        }
        return false;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aTokenIsAllowedExactlyWhenTheTextStaysValidUtf8() {
        byte[][] pieces = vocabulary();
        BitSet special = new BitSet();
        int imEnd = pieces.length - 1;
        special.set(imEnd);
        Utf8Guard guard = new Utf8Guard(pieces, special);
        SplittableRandom random = new SplittableRandom(11);
        int checked = 0;
        int midCharacter = 0;
        for (int walk = 0; walk < 200; walk++) {
            byte[] text = new byte[0];
            int state = Utf8Guard.BOUNDARY;
            for (int step = 0; step < 12; step++) {
                float[] logits = new float[pieces.length];
                guard.restrict(logits, state);
                boolean atBoundary = decodablePrefix(text) && complete(text);
                midCharacter += atBoundary ? 0 : 1;
                List<Integer> allowed = new ArrayList<>();
                for (int id = 0; id < pieces.length; id++) {
                    boolean expected = id == imEnd ? atBoundary
                            : pieces[id].length == 0 ? atBoundary : decodablePrefix(concat(text, pieces[id]));
                    assertEquals(expected, logits[id] == 0f, "after " + java.util.HexFormat.of().formatHex(text)
                            + ", token " + java.util.HexFormat.of().formatHex(pieces[id]));
                    checked++;
                    if (expected && pieces[id].length > 0 && id != imEnd) {
                        allowed.add(id);
                    }
                }
                int token = allowed.get(random.nextInt(allowed.size()));
                text = concat(text, pieces[token]);
                state = guard.advance(state, token);
            }
        }
        assertTrue(midCharacter > 100, "the walks spent time inside characters: " + midCharacter);
        System.out.printf("%,d token decisions checked against the JDK decoder%n", checked);
    }

    static boolean complete(byte[] text) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT);
        return !d.decode(ByteBuffer.wrap(text), CharBuffer.allocate(text.length * 2 + 2), true).isError()
                && !d.flush(CharBuffer.allocate(4)).isError();
    }
}
