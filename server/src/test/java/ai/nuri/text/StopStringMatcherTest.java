package ai.nuri.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringMatcherTest {
    @Test
    void aStopStringSpanningDeltasEndsTheTextBeforeIt() {
        StopStringMatcher m = new StopStringMatcher(List.of("감사합니다"));
        StringBuilder out = new StringBuilder();
        for (String d : List.of("안내해 ", "드렸습니다. 감", "사합", "니다 또 오세요")) {
            StopStringMatcher.Step s = m.offer(d);
            out.append(s.emit());
            if (s.stopped()) {
                break;
            }
        }
        assertEquals("안내해 드렸습니다. ", out.toString());
    }

    @Test
    void heldBackTextIsReleasedWhenItIsNotAStop() {
        StopStringMatcher m = new StopStringMatcher(List.of("\n\n", "끝."));
        StopStringMatcher.Step a = m.offer("하나\n");
        assertEquals("하나", a.emit(), "a trailing newline may start a stop string");
        StopStringMatcher.Step b = m.offer("둘 끝");
        assertEquals("\n둘 ", b.emit());
        assertFalse(b.stopped());
        assertEquals("끝", m.flush());
    }

    @Test
    void earliestStopWinsAndEmptyStopsAreIgnored() {
        StopStringMatcher m = new StopStringMatcher(List.of("", "다.", "니"));
        StopStringMatcher.Step s = m.offer("합니다.");
        assertTrue(s.stopped());
        assertEquals("합", s.emit());
        assertEquals("", m.flush());
    }
}
