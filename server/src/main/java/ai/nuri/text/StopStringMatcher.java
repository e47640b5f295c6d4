package ai.nuri.text;

import java.util.List;

/**
 * Finds stop strings in streamed text, which may span several deltas. Text that could still turn
 * out to be the start of a stop string is held back, so a stream never shows part of one; the
 * stop string itself is never emitted (as OpenAI's API behaves).
 */
public final class StopStringMatcher {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    public StopStringMatcher(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** What to emit after {@code delta}, and whether a stop string ended the text. */
    public record Step(String emit, boolean stopped) {}

    public Step offer(String delta) {
        if (stopped) {
            return new Step("", true);
        }
        pending.append(delta);
        int earliest = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        if (earliest >= 0) {
            stopped = true;
            String emit = pending.substring(0, earliest);
            pending.setLength(0);
            return new Step(emit, true);
        }
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, pending.length()); k > hold; k--) {
                if (pending.length() >= k && pending.substring(pending.length() - k).equals(s.substring(0, k))) {
                    hold = k;
                    break;
                }
            }
        }
        String emit = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return new Step(emit, false);
    }

    /** At the end of generation (no stop string met): the text still held back. */
    public String flush() {
        String rest = pending.toString();
        pending.setLength(0);
        return stopped ? "" : rest;
    }
}
