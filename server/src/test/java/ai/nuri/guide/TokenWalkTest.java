package ai.nuri.guide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.RegExp;
import dk.brics.automaton.State;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The trie walk's masks against a naive oracle that asks the library's own automaton, token by
 * token, whether the bytes so far (a partial character included) can still be extended into a
 * sentence of the language.
 */
class TokenWalkTest {
    static final String[] PATTERNS = {
        "\"[가-힣 ]{1,6}\"", "(서울|부산|대구)특별?시?", "[0-9]{2,4}-[a-z]+", "😀+a|b", "[^\"]*\"", "{\"이름\":\"[가-힣]+\"}",
    };

    /** Pieces like a byte-level BPE vocabulary: ASCII, whole Hangul syllables, and their bytes split across tokens. */
    static byte[][] vocabulary(SplittableRandom r, int size) {
        List<byte[]> pieces = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            pieces.add(new byte[] {(byte) b});
        }
        String[] words = {"서울", "부산", "대구", "특별시", "시", "특별", "\"", "{\"", "\":\"", "\"}", "이름", "😀", "a", "b", "12", "-", "ab"};
        for (String w : words) {
            pieces.add(w.getBytes(StandardCharsets.UTF_8));
        }
        while (pieces.size() < size) {
            String syllable = new String(Character.toChars(0xAC00 + r.nextInt(11172)));
            byte[] b = syllable.getBytes(StandardCharsets.UTF_8);
            int cut = r.nextInt(4); // whole, or split after 1 or 2 bytes, or with a tail of the next
            if (cut == 1 || cut == 2) {
                pieces.add(java.util.Arrays.copyOfRange(b, 0, cut));
                pieces.add(java.util.Arrays.copyOfRange(b, cut, 3));
            } else if (cut == 3) {
                byte[] two = new byte[4];
                System.arraycopy(b, 0, two, 0, 3);
                two[3] = (byte) 0xEA;
                pieces.add(two);
            } else {
                pieces.add(b);
            }
        }
        return pieces.subList(0, size).toArray(new byte[0][]);
    }

    static final java.util.Map<State, java.util.Set<String>> PREFIXES = new java.util.HashMap<>();
    static final java.util.Map<State, Boolean> LIVE = new java.util.HashMap<>();

    /** Whether these bytes (maybe ending inside a character) are a prefix of some string of {@code a}. */
    static boolean oracleViable(Automaton a, byte[] bytes) {
        int end = bytes.length;
        int lead = end; // where an unfinished last character starts, if any
        for (int i = Math.max(0, end - 3); i < end; i++) {
            int b = bytes[i] & 0xFF;
            int len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            if (b >= 0xC0 && i + len > end) {
                lead = i;
            }
        }
        String whole = decode(bytes, lead);
        State s = whole == null ? null : run(a, whole);
        if (s == null) {
            return false;
        }
        if (lead == end) {
            return live(s);
        }
        return viablePrefixes(s).contains(hex(bytes, lead, end));
    }

    /** Every proper prefix of the UTF-8 encoding of each non-ASCII character that can come next from {@code s}. */
    static java.util.Set<String> viablePrefixes(State s) {
        return PREFIXES.computeIfAbsent(s, k -> {
            java.util.Set<String> out = new java.util.HashSet<>();
            for (int cp = 0x80; cp <= 0x10FFFF; cp++) {
                if (cp >= 0xD800 && cp <= 0xDFFF) {
                    continue;
                }
                String c = new String(Character.toChars(cp));
                State t = run(k, c);
                if (t != null && live(t)) {
                    byte[] enc = c.getBytes(StandardCharsets.UTF_8);
                    for (int n = 1; n < enc.length; n++) {
                        out.add(hex(enc, 0, n));
                    }
                }
            }
            return out;
        });
    }

    static String hex(byte[] b, int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }

    static String decode(byte[] bytes, int len) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes, 0, len)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    static State run(Automaton a, String s) {
        return run(a.getInitialState(), s);
    }

    static State run(State s, String text) {
        for (int i = 0; i < text.length() && s != null; i++) {
            s = s.step(text.charAt(i));
        }
        return s;
    }

    /** Some accepting state is reachable. */
    static boolean live(State s) {
        return LIVE.computeIfAbsent(s, TokenWalkTest::search);
    }

    static boolean search(State s) {
        java.util.Set<State> seen = new java.util.HashSet<>();
        java.util.ArrayDeque<State> todo = new java.util.ArrayDeque<>(List.of(s));
        while (!todo.isEmpty()) {
            State t = todo.pop();
            if (!seen.add(t)) {
                continue;
            }
            if (t.isAccept()) {
                return true;
            }
            t.getTransitions().forEach(tr -> todo.push(tr.getDest()));
        }
        return false;
    }

    @Test
    void masksAgreeWithTheOracleAlongRandomWalks() {
        SplittableRandom r = new SplittableRandom(7);
        byte[][] pieces = vocabulary(r, 900);
        TokenVocabulary vocab = new TokenVocabulary(pieces, new BitSet(), 1 << 20);
        int checkedPartial = 0;
        for (String pattern : PATTERNS) {
            Automaton a = new RegExp(EcmaRegex.translate(pattern, "regex"), RegExp.NONE).toAutomaton();
            a.determinize();
            Grammar g = Grammar.of(a, pattern);
            for (int walk = 0; walk < 6; walk++) {
                GuidedSequence seq = new GuidedSequence(g, vocab);
                java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
                for (int step = 0; step < 12 && !seq.mustEnd(); step++) {
                    long[] mask = seq.allowedTokens();
                    List<Integer> allowed = new ArrayList<>();
                    for (int id = 0; id < pieces.length; id++) {
                        java.io.ByteArrayOutputStream next = new java.io.ByteArrayOutputStream();
                        next.writeBytes(text.toByteArray());
                        next.writeBytes(pieces[id]);
                        boolean expected = oracleViable(a, next.toByteArray());
                        boolean got = (mask[id >>> 6] & (1L << id)) != 0;
                        assertEquals(expected, got, pattern + " after '" + text + "' token " + id);
                        if (got) {
                            allowed.add(id);
                        }
                    }
                    if (allowed.isEmpty()) {
                        assertTrue(seq.mayEnd(), pattern + ": no token allowed, so the text must be complete");
                        break;
                    }
                    int pick = allowed.get(r.nextInt(allowed.size()));
                    assertTrue(seq.advance(pick));
                    text.writeBytes(pieces[pick]);
                    if (decode(text.toByteArray(), text.size()) == null) {
                        checkedPartial++;
                    }
                }
                String done = decode(text.toByteArray(), text.size());
                assertEquals(seq.mayEnd(), done != null && a.run(done), pattern + ": may end after '" + done + "'");
            }
        }
        assertTrue(checkedPartial > 0, "some walks stopped inside a character");
    }

    @Test
    void aTokenTheGrammarRefusesIsNotTaken() {
        byte[][] pieces = {"a".getBytes(), "b".getBytes(), "ab".getBytes()};
        Grammar g = Grammar.of(new RegExp("ab", RegExp.NONE).toAutomaton(), "ab");
        GuidedSequence s = new GuidedSequence(g, new TokenVocabulary(pieces, new BitSet(), 1 << 16));
        assertFalse(s.advance(1));
        assertFalse(s.mayEnd());
        assertTrue(s.advance(2));
        assertTrue(s.mustEnd());
    }

    @Test
    void excludedTokensAreNeverAllowed() {
        byte[][] pieces = {"a".getBytes(), "a".getBytes(), "<s>".getBytes()};
        BitSet special = new BitSet();
        special.set(1);
        special.set(2);
        Grammar g = Grammar.of(Automaton.makeAnyString(), "any");
        long[] mask = new GuidedSequence(g, new TokenVocabulary(pieces, special, 1 << 16)).allowedTokens();
        assertEquals(1L, mask[0], "only token 0");
    }
}
