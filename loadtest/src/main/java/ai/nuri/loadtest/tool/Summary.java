package ai.nuri.loadtest.tool;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * A run's figures, named as vLLM's {@code bench serve} names them in its result JSON so that
 * results sit side by side: counts, throughputs, goodput, and for TTFT, TPOT, ITL and E2EL the
 * mean, median, p90, p99 and max in milliseconds. Percentiles come from HdrHistogram (recorded in
 * microseconds, 3 significant digits) as the nearest recorded value (vLLM interpolates between samples, which
 * differs at small counts); means are exact. A metric without samples is null.
 */
final class Summary {
    static final List<String> METRICS = List.of("ttft", "tpot", "itl", "e2el");
    private static final double[] PERCENTILES = {50, 90, 99};

    private Summary() {}

    static Map<String, Object> of(List<Outcome> outcomes, double duration, Slo slo) {
        Map<String, Object> s = new LinkedHashMap<>();
        List<Outcome> ok = outcomes.stream().filter(Outcome::ok).toList();
        long input = ok.stream().mapToLong(Outcome::promptTokens).sum();
        long output = ok.stream().mapToLong(Outcome::outputTokens).sum();
        s.put("duration", duration);
        s.put("completed", ok.size());
        s.put("failed", outcomes.size() - ok.size());
        Map<String, Integer> errors = new TreeMap<>();
        outcomes.stream().filter(o -> !o.ok()).forEach(o -> errors.merge(o.error(), 1, Integer::sum));
        s.put("errors", errors);
        long estimated = ok.stream().filter(Outcome::usageEstimated).count();
        if (estimated > 0) {
            s.put("usage_estimated_requests", estimated); // the server sent no usage: output tokens are content chunks
        }
        s.put("total_input_tokens", input);
        s.put("total_output_tokens", output);
        s.put("request_throughput", ok.size() / duration);
        s.put("output_throughput", output / duration);
        s.put("total_token_throughput", (input + output) / duration);
        if (slo.isSet()) {
            s.put("request_goodput", ok.stream().filter(slo::met).count() / duration);
        }
        for (String metric : METRICS) {
            List<Double> values = new ArrayList<>();
            for (Outcome o : ok) {
                switch (metric) {
                    case "ttft" -> values.add(o.ttft());
                    case "tpot" -> {
                        if (!Double.isNaN(o.tpot())) {
                            values.add(o.tpot());
                        }
                    }
                    case "itl" -> values.addAll(o.itls());
                    default -> values.add(o.e2el());
                }
            }
            putStats(s, metric, values);
        }
        return s;
    }

    private static void putStats(Map<String, Object> s, String metric, List<Double> seconds) {
        Histogram h = new Histogram(3);
        double sum = 0;
        for (double v : seconds) {
            h.recordValue(Math.max(0, Math.round(v * 1e6)));
            sum += v;
        }
        boolean none = seconds.isEmpty(); // no samples (every request failed): no value, not a flattering 0
        s.put("mean_" + metric + "_ms", none ? null : sum / seconds.size() * 1000);
        for (double p : PERCENTILES) {
            String name = p == 50 ? "median" : "p" + (int) p;
            s.put(name + "_" + metric + "_ms", none ? null : h.getValueAtPercentile(p) / 1000.0);
        }
        s.put("max_" + metric + "_ms", none ? null : h.getMaxValue() / 1000.0);
    }
}
