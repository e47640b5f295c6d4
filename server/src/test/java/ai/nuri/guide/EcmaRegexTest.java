package ai.nuri.guide;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dk.brics.automaton.Automaton;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** ECMA-style patterns turned into automata agree with java.util.regex (same semantics on this subset) on random strings. */
class EcmaRegexTest {
    static final String[] PATTERNS = {
        "^\\d{3}-\\d{4}$", "[가-힣]+시", "^(?:ab|c)*?d$", "\\w+@\\w+\\.kr", "^[^\\s\"]{2,5}$", "a.b", "^\\u00e9\\x41+$",
        "^[\\d.]+$", "x{2,}", "^\\(\\+82\\)[0-9]{2}$", "^[a\\-z]$",
    };
    static final String ALPHABET = "abcdxz0123456789-@.kr()+ \t\"é가시A\n_";

    @Test
    void searchAgreesWithJavaRegex() {
        SplittableRandom r = new SplittableRandom(11);
        for (String p : PATTERNS) {
            Automaton a = EcmaRegex.search(p, "pattern");
            // Java's $ also matches before a final line break; ECMA's (and brics') only at the very end.
            Pattern java = Pattern.compile(p.endsWith("$") ? p.substring(0, p.length() - 1) + "\\z" : p);
            int matches = 0;
            for (int i = 0; i < 3000; i++) {
                String s = randomString(r, p);
                boolean expected = java.matcher(s).find();
                matches += expected ? 1 : 0;
                assertEquals(expected, a.run(s), p + " on '" + s + "'");
            }
        }
    }

    /** Random strings, half of them built from the pattern's own literal characters so that matches occur. */
    static String randomString(SplittableRandom r, String pattern) {
        StringBuilder sb = new StringBuilder();
        int len = r.nextInt(10);
        String pool = r.nextBoolean() ? ALPHABET : pattern.replaceAll("[\\\\^$\\[\\]{}()*+?|]", "") + "0123456789";
        for (int i = 0; i < len; i++) {
            sb.append(pool.charAt(r.nextInt(pool.length())));
        }
        return sb.toString();
    }

    @Test
    void aPatternWhoseAutomatonWouldExplodeIsRefusedQuickly() {
        long t0 = System.nanoTime();
        GuideException e = org.junit.jupiter.api.Assertions.assertThrows(GuideException.class,
                () -> EcmaRegex.search("a.{40}$", "pattern"));
        assertEquals("pattern", e.keyword());
        org.junit.jupiter.api.Assertions.assertTrue((System.nanoTime() - t0) / 1e9 < 10, "refused before it grew");
        for (String exploding : new String[] {".*a.{40}", "^.*a.{40}$"}) {
            long t1 = System.nanoTime();
            org.junit.jupiter.api.Assertions.assertThrows(GuideException.class, () -> EcmaRegex.fullMatch(exploding, "regex"));
            org.junit.jupiter.api.Assertions.assertThrows(GuideException.class, () -> EcmaRegex.search(exploding, "pattern"));
            org.junit.jupiter.api.Assertions.assertTrue((System.nanoTime() - t1) / 1e9 < 10, exploding + " refused before it grew");
        }
        GuideException count = org.junit.jupiter.api.Assertions.assertThrows(GuideException.class,
                () -> EcmaRegex.fullMatch("a{100000000}", "regex"));
        org.junit.jupiter.api.Assertions.assertTrue(count.getMessage().contains("repetition"), count.getMessage());
        EcmaRegex.search("^[가-힣]{1,200}$", "pattern"); // long but linear: fine
    }

    @Test
    void fullMatchNeedsTheWholeString() {
        Automaton a = EcmaRegex.fullMatch("(예|아니요)", "regex");
        assertEquals(true, a.run("예"));
        assertEquals(false, a.run("예요"));
    }
}
