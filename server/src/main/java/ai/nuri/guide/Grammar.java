package ai.nuri.guide;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import dk.brics.automaton.Transition;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A constraint on generated text, compiled: a minimal deterministic automaton over UTF-16 chars
 * laid out in flat arrays for the token walk. Immutable and shared by every sequence that uses
 * the same constraint, so their token masks are computed once.
 */
public final class Grammar {
    private static final int DEAD = -1;

    private final int[] first; // per state: index of its first transition
    private final char[] min;
    private final char[] max;
    private final int[] to;
    private final boolean[] accept;
    private final int[] ascii; // per state, 128 entries: the next state for an ASCII char, or DEAD
    private final String description;

    private Grammar(Automaton automaton, String description) {
        this.description = description;
        Automaton a = automaton.clone();
        a.determinize();
        a.minimize();
        // State 0 is the initial state; the rest in the library's order.
        Map<State, Integer> ids = new HashMap<>();
        ids.put(a.getInitialState(), 0);
        for (State s : a.getStates()) {
            ids.putIfAbsent(s, ids.size());
        }
        State[] byId = new State[ids.size()];
        ids.forEach((s, i) -> byId[i] = s);
        int n = byId.length;
        first = new int[n + 1];
        accept = new boolean[n];
        int edges = 0;
        for (State s : byId) {
            edges += s.getTransitions().size();
        }
        min = new char[edges];
        max = new char[edges];
        to = new int[edges];
        int e = 0;
        for (int i = 0; i < n; i++) {
            first[i] = e;
            accept[i] = byId[i].isAccept();
            List<Transition> sorted = byId[i].getSortedTransitions(false);
            for (Transition t : sorted) {
                min[e] = t.getMin();
                max[e] = t.getMax();
                to[e] = ids.get(t.getDest());
                e++;
            }
        }
        first[n] = e;
        ascii = new int[n * 128];
        for (int i = 0; i < n; i++) {
            for (char c = 0; c < 128; c++) {
                ascii[i * 128 + c] = search(i, c);
            }
        }
    }

    /** The grammar of the strings {@code automaton} accepts; {@code description} names it in errors and logs. */
    public static Grammar of(Automaton automaton, String description) {
        if (automaton.isEmpty()) {
            throw new GuideException("the constraint admits no output at all", null);
        }
        return new Grammar(automaton, description);
    }

    public String description() {
        return description;
    }

    public int states() {
        return accept.length;
    }

    public boolean isAccept(int state) {
        return accept[state];
    }

    /** Whether any char may follow in {@code state}. */
    public boolean canContinue(int state) {
        return first[state + 1] > first[state];
    }

    /** The state after {@code c}, or -1 if {@code c} is not allowed. */
    public int step(int state, char c) {
        return c < 128 ? ascii[state * 128 + c] : search(state, c);
    }

    private int search(int state, char c) {
        int lo = first[state];
        int hi = first[state + 1] - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (c < min[mid]) {
                hi = mid - 1;
            } else if (c > max[mid]) {
                lo = mid + 1;
            } else {
                return to[mid];
            }
        }
        return DEAD;
    }

    /** Whether some char in [{@code lo}, {@code hi}] is allowed in {@code state}. */
    boolean allowsAnyIn(int state, char lo, char hi) {
        for (int e = first[state]; e < first[state + 1]; e++) {
            if (min[e] <= hi && max[e] >= lo) {
                return true;
            }
        }
        return false;
    }

    /** Whether some code point in [{@code lo}, {@code hi}] is allowed in {@code state} (as a surrogate pair above U+FFFF). */
    boolean allowsAnyCodePointIn(int state, int lo, int hi) {
        if (lo < 0x10000) {
            int bmpHi = Math.min(hi, 0xFFFF);
            // Surrogates are halves of characters above U+FFFF, never characters of their own.
            if (lo < 0xD800 && allowsAnyIn(state, (char) lo, (char) Math.min(bmpHi, 0xD7FF))) {
                return true;
            }
            if (bmpHi > 0xDFFF && allowsAnyIn(state, (char) Math.max(lo, 0xE000), (char) bmpHi)) {
                return true;
            }
            if (hi < 0x10000) {
                return false;
            }
            lo = 0x10000;
        }
        char hiFirst = Character.highSurrogate(lo);
        char hiLast = Character.highSurrogate(hi);
        for (char h = hiFirst; h <= hiLast; h++) {
            int next = step(state, h);
            if (next < 0) {
                continue;
            }
            int from = h == hiFirst ? lo : Character.toCodePoint(h, Character.MIN_LOW_SURROGATE);
            int until = h == hiLast ? hi : Character.toCodePoint(h, Character.MAX_LOW_SURROGATE);
            if (allowsAnyIn(next, Character.lowSurrogate(from), Character.lowSurrogate(until))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "Grammar[" + description + ", " + states() + " states]";
    }
}
