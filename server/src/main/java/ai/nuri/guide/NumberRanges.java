package ai.nuri.guide;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.BasicAutomata;

/**
 * Decimal numbers within bounds as regular languages: whole numbers between two integers, and
 * decimals (integer part, optional fraction) between whole-number bounds, inclusive or not.
 * JSON forms only: no leading zeros, no '+', no exponent when bounded.
 */
final class NumberRanges {
    /** The largest magnitude written: 18 digits. */
    static final long MAX = 999_999_999_999_999_999L;
    private static final Automaton ANY_FRACTION = BasicAutomata.makeChar('.')
            .concatenate(JsonSchemaCompiler.digit().repeat(1, 15)).optional();
    private static final Automaton ZERO_FRACTION = BasicAutomata.makeChar('.')
            .concatenate(BasicAutomata.makeChar('0').repeat(1, 15)).optional();
    private static final Automaton NONZERO_FRACTION = ANY_FRACTION.minus(ZERO_FRACTION);

    private NumberRanges() {}

    /** Integers in [lo, hi]. */
    static Automaton integers(long lo, long hi) {
        Automaton a = BasicAutomata.makeEmpty();
        if (hi >= 0) {
            a = a.union(naturals(Math.max(lo, 0), hi));
        }
        if (lo < 0) {
            a = a.union(BasicAutomata.makeChar('-').concatenate(naturals(Math.max(hi < 0 ? -hi : 1, 1), -lo)));
        }
        return a;
    }

    /** Decimal numbers between whole-number bounds (null: unbounded on that side). */
    static Automaton decimals(Long lo, boolean loExclusive, Long hi, boolean hiExclusive) {
        Automaton a = BasicAutomata.makeEmpty();
        if (hi == null || hi > 0 || (hi == 0 && !hiExclusive)) {
            boolean fromZero = lo == null || lo < 0;
            a = a.union(magnitudes(fromZero ? 0 : lo, !fromZero && loExclusive, hi, hiExclusive));
        }
        if (lo == null || lo < 0) {
            boolean belowZero = hi != null && hi < 0;
            Automaton negative = magnitudes(belowZero ? -hi : 0, !belowZero || hiExclusive, lo == null ? null : -lo, loExclusive);
            a = a.union(BasicAutomata.makeChar('-').concatenate(negative));
        }
        return a;
    }

    /** Non-negative decimals "k" or "k.ddd" with lo &lt; (or &lt;=) value &lt; (or &lt;=) hi. */
    private static Automaton magnitudes(long lo, boolean loExclusive, Long hi, boolean hiExclusive) {
        Automaton a = BasicAutomata.makeEmpty();
        Automaton atLo = BasicAutomata.makeString(Long.toString(lo)).concatenate(loExclusive ? NONZERO_FRACTION : ANY_FRACTION);
        if (hi == null) {
            a = a.union(naturals(lo + 1, MAX).concatenate(ANY_FRACTION)).union(atLo);
        } else if (hi > lo) {
            if (hi - 1 >= lo + 1) {
                a = a.union(naturals(lo + 1, hi - 1).concatenate(ANY_FRACTION));
            }
            a = a.union(atLo);
            if (!hiExclusive) {
                a = a.union(BasicAutomata.makeString(Long.toString(hi)).concatenate(ZERO_FRACTION));
            }
        } else if (hi == lo && !loExclusive && !hiExclusive) {
            a = a.union(BasicAutomata.makeString(Long.toString(lo)).concatenate(ZERO_FRACTION));
        }
        return a;
    }

    /** Whole numbers in [lo, hi], 0 &lt;= lo, written without leading zeros. */
    static Automaton naturals(long lo, long hi) {
        Automaton a = BasicAutomata.makeEmpty();
        if (lo > hi) {
            return a;
        }
        int from = Long.toString(lo).length();
        int to = Long.toString(hi).length();
        for (int len = from; len <= to; len++) {
            long first = len == 1 ? 0 : pow10(len - 1);
            long last = pow10(len) - 1;
            long l = Math.max(lo, first);
            long h = Math.min(hi, last);
            if (l <= h) {
                a = a.union(sameLength(pad(l, len), pad(h, len)));
            }
        }
        a.minimize();
        return a;
    }

    /** Digit strings of one length between lo and hi (both that long). */
    private static Automaton sameLength(String lo, String hi) {
        if (lo.matches("0*") && hi.matches("9*")) { // every digit string of this length (and no branching below)
            return JsonSchemaCompiler.digit().repeat(lo.length(), lo.length());
        }
        char a = lo.charAt(0);
        char b = hi.charAt(0);
        String restLo = lo.substring(1);
        String restHi = hi.substring(1);
        if (a == b) {
            return BasicAutomata.makeChar(a).concatenate(sameLength(restLo, restHi));
        }
        Automaton out = BasicAutomata.makeChar(a).concatenate(sameLength(restLo, "9".repeat(restLo.length())))
                .union(BasicAutomata.makeChar(b).concatenate(sameLength("0".repeat(restHi.length()), restHi)));
        if (b - a > 1) {
            out = out.union(BasicAutomata.makeCharRange((char) (a + 1), (char) (b - 1))
                    .concatenate(JsonSchemaCompiler.digit().repeat(restLo.length(), restLo.length())));
        }
        return out;
    }

    private static String pad(long v, int len) {
        String s = Long.toString(v);
        return "0".repeat(len - s.length()) + s;
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }
}
