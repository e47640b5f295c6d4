package ai.nuri.guide;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import dk.brics.automaton.Transition;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses a client's regular expression whose deterministic automaton would be too big, before
 * anything determinizes it: a pattern like {@code .*a.{30}} has 2^30 states and would take the
 * server's memory. The check is the subset construction itself, stopped at the cap.
 */
final class SizeGuard {
    static final int MAX_STATES = 20_000;

    private SizeGuard() {}

    static Automaton requireSmall(Automaton a, String keyword) {
        Set<Set<State>> seen = new HashSet<>();
        ArrayDeque<Set<State>> todo = new ArrayDeque<>();
        Set<State> start = Set.of(a.getInitialState());
        seen.add(start);
        todo.add(start);
        while (!todo.isEmpty()) {
            Set<State> subset = todo.poll();
            TreeSet<Integer> cuts = new TreeSet<>(); // where the set of possible next states can change
            for (State s : subset) {
                for (Transition t : s.getTransitions()) {
                    cuts.add((int) t.getMin());
                    cuts.add(t.getMax() + 1);
                }
            }
            Integer from = cuts.isEmpty() ? null : cuts.first();
            for (Integer to : cuts.tailSet(from == null ? 0 : from, false)) {
                Set<State> next = new HashSet<>();
                for (State s : subset) {
                    for (Transition t : s.getTransitions()) {
                        if (t.getMin() <= from && t.getMax() >= to - 1) {
                            next.add(t.getDest());
                        }
                    }
                }
                if (!next.isEmpty() && seen.add(next)) {
                    if (seen.size() > MAX_STATES) {
                        throw new GuideException("'" + keyword + "' is too complex: its automaton would have more than "
                                + MAX_STATES + " states", keyword);
                    }
                    todo.add(next);
                }
                from = to;
            }
        }
        return a;
    }
}
