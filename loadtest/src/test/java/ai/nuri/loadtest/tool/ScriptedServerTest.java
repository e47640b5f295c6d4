package ai.nuri.loadtest.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The whole client against a server whose timings and faults are scripted. */
class ScriptedServerTest {
    static StreamClient client(ScriptedServer s) {
        return new StreamClient(new StreamClient.Target(URI.create(s.baseUrl()), "chat", "scripted", null, false,
                Duration.ofSeconds(10)));
    }

    static Runner.Plan plan(int n, int concurrency) throws Exception {
        return new Runner.Plan(Dataset.load(Dataset.BUNDLED, n, 1, null, null, false), Double.POSITIVE_INFINITY, 1, concurrency,
                1, 0, List.of(), Slo.parse(List.of("ttft:200")));
    }

    @Test
    void scriptedTimingsComeOutAsTheirFigures() throws Exception {
        try (ScriptedServer s = new ScriptedServer(150, 40, 6, 0, 0)) {
            Map<String, Object> r = new Runner(client(s), plan(8, 4)).run(o -> { });
            assertEquals(8, r.get("completed"));
            assertEquals(48L, r.get("total_output_tokens"), "usage, not chunk counting");
            // Loopback adds a little: each figure within 40 ms (ITL 20 ms) of the script.
            assertEquals(150, ((Number) r.get("median_ttft_ms")).doubleValue(), 40);
            assertEquals(40, ((Number) r.get("median_itl_ms")).doubleValue(), 20);
            assertEquals(40, ((Number) r.get("mean_tpot_ms")).doubleValue(), 20, "(E2EL - TTFT) / 5 with 5 gaps of 40 ms");
            assertEquals(350, ((Number) r.get("median_e2el_ms")).doubleValue(), 60);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> requests = (List<Map<String, Object>>) r.get("requests");
            long meeting = requests.stream().filter(q -> ((Number) q.get("ttft")).doubleValue() <= 0.2).count();
            assertEquals(meeting / ((Number) r.get("duration")).doubleValue(), ((Number) r.get("request_goodput")).doubleValue(),
                    1e-9, "goodput: the requests whose TTFT met 200 ms, per second");
        }
    }

    @Test
    void resetsAnd503sAreCountedAndTheRunGoesOn() throws Exception {
        try (ScriptedServer s = new ScriptedServer(20, 5, 3, 3, 4)) { // requests 2, 5, 8.. answer 503; 3, 7, 11.. reset
            Map<String, Object> r = new Runner(client(s), plan(24, 6)).run(o -> { });
            @SuppressWarnings("unchecked")
            Map<String, Integer> errors = (Map<String, Integer>) r.get("errors");
            int failed = (Integer) r.get("failed");
            assertEquals(24, (Integer) r.get("completed") + failed, "every request accounted for");
            assertEquals(8, errors.get("http_503"), errors.toString());
            // Resets: requests 3, 7, 15 and 19 (11 and 23 answer 503 first).
            assertEquals(4, errors.getOrDefault("connection_error", 0) + errors.getOrDefault("stream_cut", 0), errors.toString());
            assertEquals(12, r.get("completed"));
        }
    }

    @Test
    void aClientSideErrorIsCountedNotLost() throws Exception {
        try (ScriptedServer s = new ScriptedServer(10, 5, 2, 0, 0)) {
            StreamClient broken = new StreamClient(new StreamClient.Target(java.net.URI.create(s.baseUrl()), "chat", "scripted",
                    "bad\nkey", false, Duration.ofSeconds(5)));
            Map<String, Object> r = new Runner(broken, plan(3, 2)).run(o -> { });
            assertEquals(3, r.get("failed"), r.toString());
            assertEquals(null, r.get("median_ttft_ms"), "no successful request: no TTFT");
        }
    }

    @Test
    void aServerThatStallsTimesOutAsAFailure() throws Exception {
        try (ScriptedServer s = new ScriptedServer(3000, 10, 2, 0, 0)) {
            StreamClient c = new StreamClient(new StreamClient.Target(URI.create(s.baseUrl()), "chat", "scripted", null, false,
                    Duration.ofMillis(300)));
            Outcome o = c.send(c.body(new Dataset.Prompt("안녕", null, 4), null), System.nanoTime());
            assertEquals("timeout", o.error(), "a stalled stream is a failure, not a hang");
            assertTrue(o.e2el() < 2, "ended at the timeout: " + o.e2el());
        }
    }
}
