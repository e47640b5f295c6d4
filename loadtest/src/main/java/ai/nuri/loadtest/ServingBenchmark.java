package ai.nuri.loadtest;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small closed-loop client for a running server: at each concurrency level, that many clients
 * each stream chat completions back to back (fixed length, end-of-sequence ignored) and the
 * benchmark prints output tokens per second and time to first token p50/p99.
 *
 * <pre>java -cp loadtest/target/nuri-loadtest-0.1.0-SNAPSHOT.jar:server/target/nuri-server.jar \
 *     ai.nuri.loadtest.ServingBenchmark http://127.0.0.1:8000 nuri-ko-mini 1,8,32,64 64</pre>
 */
public final class ServingBenchmark {
    private static final Pattern COMPLETION_TOKENS = Pattern.compile("\"completion_tokens\":(\\d+)");
    private static final String[] QUESTIONS = {"여권 재발급은 어디서 하나요?", "전입신고는 온라인으로 할 수 있나요?",
        "실업급여는 어떻게 신청하나요?", "폐건전지는 어디에 버리나요?", "국민연금은 언제부터 받을 수 있나요?",
        "미세먼지 농도는 어디서 확인하나요?", "운전면허증을 잃어버렸어요.", "투표소는 어디서 확인하나요?"};

    record Sample(double ttftSeconds, int tokens) {}

    public static void main(String[] args) throws Exception {
        String base = args.length > 0 ? args[0] : "http://127.0.0.1:8000";
        String model = args.length > 1 ? args[1] : "nuri-ko-mini";
        String[] levels = (args.length > 2 ? args[2] : "1,8,32,64").split(",");
        int maxTokens = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (String level : levels) {
            int concurrency = Integer.parseInt(level.strip());
            int perClient = Math.max(2, 64 / concurrency);
            List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> clients = new ArrayList<>();
                for (int c = 0; c < concurrency; c++) {
                    int client = c;
                    clients.add(pool.submit(() -> {
                        for (int i = 0; i < perClient; i++) {
                            samples.add(stream(http, base, model, QUESTIONS[(client + i) % QUESTIONS.length], maxTokens));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : clients) {
                    f.get();
                }
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            List<Double> ttft = samples.stream().map(Sample::ttftSeconds).sorted().toList();
            long tokens = samples.stream().mapToLong(Sample::tokens).sum();
            System.out.printf("model=%s concurrency=%d requests=%d max_tokens=%d output_tokens_per_s=%.1f "
                            + "ttft_p50_ms=%.0f ttft_p99_ms=%.0f wall_s=%.1f%n",
                    model, concurrency, samples.size(), maxTokens, tokens / wall, percentile(ttft, 0.50) * 1000,
                    percentile(ttft, 0.99) * 1000, wall);
        }
    }

    static Sample stream(HttpClient http, String base, String model, String question, int maxTokens) throws Exception {
        String body = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + question + "\"}],"
                + "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"logprobs\":true,\"ignore_eos\":true,\"max_tokens\":"
                + maxTokens + ",\"temperature\":0}";
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).timeout(Duration.ofMinutes(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        HttpResponse<java.io.InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (resp.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + resp.statusCode() + ": " + new String(resp.body().readAllBytes(), StandardCharsets.UTF_8));
        }
        double ttft = -1;
        int tokens = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                // With logprobs on, every token sends a chunk, even one whose text is still incomplete.
                if (ttft < 0 && line.contains("\"logprobs\":{")) {
                    ttft = (System.nanoTime() - start) / 1e9;
                }
                Matcher m = COMPLETION_TOKENS.matcher(line);
                if (m.find()) {
                    tokens = Integer.parseInt(m.group(1));
                }
            }
        }
        return new Sample(ttft < 0 ? (System.nanoTime() - start) / 1e9 : ttft, tokens);
    }

    static double percentile(List<Double> sorted, double q) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(q * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }
}
