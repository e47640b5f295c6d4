package ai.nuri.loadtest.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The figures' definitions on requests whose timings are known exactly. */
class SummaryTest {
    /** Percentiles come from HdrHistogram at 3 significant digits: equal within 0.1%. */
    static void near(double expected, Object actual, String what) {
        assertEquals(expected, ((Number) actual).doubleValue(), Math.abs(expected) * 1e-3 + 1e-9, what);
    }

    @Test
    void ttftTpotItlE2elThroughputAndGoodputFollowTheirDefinitions() {
        // Request i: TTFT 100·(i+1) ms, then 4 more chunks 20 ms apart, 5 output tokens, E2EL = TTFT + 80 ms.
        List<Outcome> outcomes = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            double ttft = 0.1 * (i + 1);
            outcomes.add(new Outcome(true, null, i * 0.5, ttft, List.of(0.02, 0.02, 0.02, 0.02), ttft + 0.08, 30, 5));
        }
        outcomes.add(Outcome.failed("http_503", 0.1, 0.01));
        outcomes.add(Outcome.failed("connection_error", 0.2, 0.01));
        Map<String, Object> s = Summary.of(outcomes, 10.0, Slo.parse(List.of("ttft:500", "tpot:25")));
        assertEquals(10, s.get("completed"));
        assertEquals(2, s.get("failed"));
        assertEquals(Map.of("http_503", 1, "connection_error", 1), s.get("errors"));
        assertEquals(300L, s.get("total_input_tokens"));
        assertEquals(50L, s.get("total_output_tokens"));
        near(1.0, s.get("request_throughput"), "10 requests in 10 s");
        near(5.0, s.get("output_throughput"), "50 tokens in 10 s");
        near(35.0, s.get("total_token_throughput"), "350 tokens in 10 s");
        near(0.5, s.get("request_goodput"), "5 requests with TTFT <= 500 ms (TPOT 20 ms meets 25)");
        near(550.0, s.get("mean_ttft_ms"), "mean of 100..1000 ms");
        near(500.0, s.get("median_ttft_ms"), "the 5th of 10");
        near(900.0, s.get("p90_ttft_ms"), "the 9th of 10");
        near(1000.0, s.get("p99_ttft_ms"), "the 10th of 10");
        near(1000.0, s.get("max_ttft_ms"), "max");
        near(20.0, s.get("mean_tpot_ms"), "(E2EL - TTFT) / (5 - 1) = 80 / 4");
        near(20.0, s.get("mean_itl_ms"), "pooled gaps");
        near(20.0, s.get("p99_itl_ms"), "every gap is 20 ms");
        near(630.0, s.get("mean_e2el_ms"), "TTFT + 80 ms");
    }

    @Test
    void aSingleTokenAnswerHasNoTpotAndGoodputIgnoresIt() {
        Outcome one = new Outcome(true, null, 0, 0.2, List.of(), 0.2, 10, 1);
        assertEquals(Double.NaN, one.tpot());
        Map<String, Object> s = Summary.of(List.of(one), 1.0, Slo.parse(List.of("tpot:1")));
        near(1.0, s.get("request_goodput"), "no TPOT to miss");
        assertEquals(null, s.get("mean_tpot_ms"), "no TPOT values: no figure, not a flattering 0");
    }
}
