package ai.nuri.loadtest.tool;

import java.util.List;

/**
 * One request as the client saw it. Times in seconds: {@code start} since the run began, {@code ttft}
 * from sending to the first non-empty content, {@code itls} every gap between content chunks after
 * that, {@code e2el} from sending to the end of the stream. Token counts are the server's
 * {@code usage}. A failed request has {@code error} (an HTTP status like "http_503", or
 * "connection_error", "timeout", ...) and no timings. A server that sends no usage has its output counted as
 * content chunks and its prompt as 0 ({@code usageEstimated}).
 */
record Outcome(boolean ok, String error, double start, double ttft, List<Double> itls, double e2el, int promptTokens,
        int outputTokens, boolean usageEstimated) {
    Outcome(boolean ok, String error, double start, double ttft, List<Double> itls, double e2el, int promptTokens,
            int outputTokens) {
        this(ok, error, start, ttft, itls, e2el, promptTokens, outputTokens, false);
    }

    static Outcome failed(String error, double start, double e2el) {
        return new Outcome(false, error, start, 0, List.of(), e2el, 0, 0);
    }

    /** Time per output token after the first: (E2EL - TTFT) / (output tokens - 1); NaN with fewer than 2 tokens. */
    double tpot() {
        return outputTokens > 1 ? (e2el - ttft) / (outputTokens - 1) : Double.NaN;
    }
}
