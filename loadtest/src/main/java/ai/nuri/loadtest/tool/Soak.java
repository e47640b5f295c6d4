package ai.nuri.loadtest.tool;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code nuri-loadtest soak}: a fixed time of steady load with clients that cancel mid-stream
 * and clients that vanish right after sending, sampling the server each interval (resident memory,
 * heap, live NDArrays, KV-cache usage from its /metrics; requests and errors by cause from the
 * client side). After the load it waits for the server to go idle and judges: no request failed
 * for a cause of the server's own, live NDArrays back at their idle count from before the load, the
 * KV cache empty, and resident memory in the second half of the run no higher than in the first
 * (plus a tolerance). Anything else is growth, and the soak fails.
 */
final class Soak {
    /** How a soak runs. {@code metricsUrl} is the server's Prometheus endpoint. */
    record Settings(Duration duration, int concurrency, double cancelRatio, double disconnectRatio, Duration interval,
            URI metricsUrl, long seed, double rssTolerance) {
        Settings {
            if (concurrency < 1 || cancelRatio < 0 || disconnectRatio < 0 || cancelRatio + disconnectRatio > 1
                    || duration.isNegative() || duration.isZero() || interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("soak: concurrency >= 1, cancel and disconnect ratios in [0, 1] with a sum "
                        + "<= 1, positive duration and interval");
            }
        }
    }

    /** One interval: the server's gauges at its end, and what the clients saw during it. */
    record Sample(double minutes, double rssBytes, double heapBytes, double liveArrays, double kvUsage, int completed,
            int cancelled, int disconnected, Map<String, Integer> errors) {}

    /** The run's samples, the idle readings before and after, and the verdict with its reasons. */
    record Result(Sample before, List<Sample> samples, Sample after, List<String> failures) {
        boolean passed() {
            return failures.isEmpty();
        }
    }

    private final StreamClient client;
    private final List<Dataset.Prompt> prompts;
    private final Settings settings;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private volatile Counts counts = new Counts();

    /** What the clients saw in the current interval. */
    private static final class Counts {
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger cancelled = new AtomicInteger();
        final AtomicInteger disconnected = new AtomicInteger();
        final Map<String, AtomicInteger> errors = new ConcurrentHashMap<>();
    }

    Soak(StreamClient client, List<Dataset.Prompt> prompts, Settings settings) {
        this.client = client;
        this.prompts = prompts;
        this.settings = settings;
    }

    Result run(Consumer<Sample> onSample) throws Exception {
        return run(onSample, () -> { });
    }

    /** As {@link #run(Consumer)}; {@code onStart} runs once the server has answered and the load begins. */
    Result run(Consumer<Sample> onSample, Runnable onStart) throws Exception {
        Sample before = idleSample("before");
        onStart.run();
        long start = System.nanoTime();
        long end = start + settings.duration().toNanos();
        ExecutorService workers = Executors.newFixedThreadPool(settings.concurrency());
        for (int w = 0; w < settings.concurrency(); w++) {
            SplittableRandom random = new SplittableRandom(settings.seed() * 1_000_003 + w);
            workers.submit(() -> {
                while (System.nanoTime() < end) {
                    oneClient(random);
                }
                return null;
            });
        }
        List<Sample> samples = new ArrayList<>();
        long next = start + settings.interval().toNanos();
        while (next <= end) {
            Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000));
            Sample s = sample((System.nanoTime() - start) / 60e9, swapCounts());
            samples.add(s);
            onSample.accept(s);
            next += settings.interval().toNanos();
        }
        workers.shutdown();
        workers.awaitTermination(10, TimeUnit.MINUTES);
        Sample after = idleSample("after");
        return new Result(before, samples, after, judge(before, samples, after));
    }

    /** One client: a whole request, one that cancels after a few chunks, or one that vanishes after sending. */
    private void oneClient(SplittableRandom random) {
        Dataset.Prompt p = prompts.get(random.nextInt(prompts.size()));
        String body = client.body(p, null);
        double roll = random.nextDouble();
        Counts c = counts;
        try {
            if (roll < settings.disconnectRatio()) {
                vanish(body);
                c.disconnected.incrementAndGet();
            } else if (roll < settings.disconnectRatio() + settings.cancelRatio()) {
                client.sendAndAbandon(body, 1 + random.nextInt(8));
                c.cancelled.incrementAndGet();
            } else {
                Outcome o = client.send(body, System.nanoTime());
                // An empty answer (the model ended at once) is a whole, correct response: only timings lack it.
                if (o.ok() || "no_content".equals(o.error())) {
                    c.completed.incrementAndGet();
                } else {
                    c.errors.computeIfAbsent(o.error(), k -> new AtomicInteger()).incrementAndGet();
                }
            }
        } catch (IOException | RuntimeException e) {
            c.errors.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicInteger()).incrementAndGet();
        }
    }

    /** Sends the request over a raw connection and closes it at once, as a client whose network drops. */
    private void vanish(String body) throws IOException {
        URI base = client.target().baseUrl();
        if (!"http".equals(base.getScheme())) {
            client.sendAndAbandon(body, 0); // TLS: hang up once the response starts
            return;
        }
        String path = base.getPath() + client.path();
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket(base.getHost(), base.getPort() < 0 ? 80 : base.getPort())) {
            StringBuilder head = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: ").append(base.getHost())
                    .append("\r\nContent-Type: application/json\r\nContent-Length: ").append(bytes.length).append("\r\n");
            if (client.target().apiKey() != null) {
                head.append("Authorization: Bearer ").append(client.target().apiKey()).append("\r\n");
            }
            socket.getOutputStream().write(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
        }
    }

    private Counts swapCounts() {
        Counts done = counts;
        counts = new Counts();
        return done;
    }

    private Sample sample(double minutes, Counts c) throws Exception {
        Map<String, Double> m = scrape();
        Map<String, Integer> errors = new TreeMap<>();
        c.errors.forEach((k, v) -> errors.put(k, v.get()));
        return new Sample(minutes, m.get("rss"), m.get("heap"), m.get("arrays"), m.get("kv"), c.completed.get(), c.cancelled.get(),
                c.disconnected.get(), errors);
    }

    /** Waits (up to a minute) until the server runs and queues nothing, then samples it. */
    private Sample idleSample(String when) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        Map<String, Double> m = scrape();
        while (System.nanoTime() < deadline && (m.get("running") > 0 || m.get("waiting") > 0 || m.get("kv") > 0)) {
            Thread.sleep(200);
            m = scrape();
        }
        return new Sample(0, m.get("rss"), m.get("heap"), m.get("arrays"), m.get("kv"), 0, 0, 0, Map.of());
    }

    /** The gauges the verdict needs, summed over their series (one model, or several). */
    private Map<String, Double> scrape() throws Exception {
        HttpResponse<String> r;
        try {
            r = http.send(HttpRequest.newBuilder(settings.metricsUrl()).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the server's metrics at " + settings.metricsUrl() + " (" + e
                    + "); is the server up, and are its metrics elsewhere (--metrics-url)?", e);
        }
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + settings.metricsUrl() + " answered " + r.statusCode());
        }
        String text = r.body();
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("rss", sum(text, "process_resident_memory_bytes", null));
        m.put("heap", sum(text, "jvm_memory_used_bytes", "area=\"heap\""));
        m.put("arrays", sum(text, "nuri_live_ndarrays", null));
        m.put("kv", sum(text, "nuri_kv_cache_usage_ratio", null));
        m.put("running", sum(text, "nuri_num_requests_running", null));
        m.put("waiting", sum(text, "nuri_num_requests_waiting", null));
        return m;
    }

    static double sum(String exposition, String name, String labelFilter) {
        Matcher matcher = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? ([0-9.eE+-]+|NaN)$").matcher(exposition);
        double total = 0;
        boolean found = false;
        while (matcher.find()) {
            if (labelFilter == null || (matcher.group(1) != null && matcher.group(1).contains(labelFilter))) {
                total += Double.parseDouble(matcher.group(2));
                found = true;
            }
        }
        return found ? total : Double.NaN;
    }

    /** Why the soak fails; empty if it passes. */
    List<String> judge(Sample before, List<Sample> samples, Sample after) {
        List<String> failures = new ArrayList<>();
        Map<String, Integer> errors = new TreeMap<>();
        samples.forEach(s -> s.errors().forEach((k, v) -> errors.merge(k, v, Integer::sum)));
        if (!errors.isEmpty()) {
            failures.add("requests failed: " + errors);
        }
        if (samples.stream().mapToInt(Sample::completed).sum() == 0) {
            failures.add("no request completed");
        }
        if (!Double.isNaN(before.liveArrays()) && after.liveArrays() != before.liveArrays()) {
            failures.add(String.format("live NDArrays at idle: %.0f before the load, %.0f after", before.liveArrays(), after.liveArrays()));
        }
        if (after.kvUsage() != 0) {
            failures.add(String.format("KV cache %.1f%% used at idle after the load", 100 * after.kvUsage()));
        }
        if (samples.size() >= 2) {
            int half = samples.size() / 2;
            double firstHalf = samples.subList(0, half).stream().mapToDouble(Sample::rssBytes).max().orElse(0);
            double secondHalf = samples.subList(half, samples.size()).stream().mapToDouble(Sample::rssBytes).max().orElse(0);
            if (secondHalf > firstHalf * (1 + settings.rssTolerance())) {
                failures.add(String.format("resident memory grew: %.0f MiB at most in the first half, %.0f MiB in the second (tolerance %.0f%%)",
                        firstHalf / (1 << 20), secondHalf / (1 << 20), 100 * settings.rssTolerance()));
            }
        }
        return failures;
    }

    /** The per-interval table, as the soak prints it while it runs. */
    static String header() {
        return String.format("%7s %9s %9s %7s %6s %9s %9s %12s  %s", "minute", "rss_MiB", "heap_MiB", "arrays", "kv_%", "completed",
                "cancelled", "disconnected", "errors");
    }

    static String row(Sample s) {
        return String.format("%7.1f %9.0f %9.0f %7.0f %6.1f %9d %9d %12d  %s", s.minutes(), s.rssBytes() / (1 << 20),
                s.heapBytes() / (1 << 20), s.liveArrays(), 100 * s.kvUsage(), s.completed(), s.cancelled(), s.disconnected(),
                s.errors().isEmpty() ? "-" : s.errors().toString());
    }
}
