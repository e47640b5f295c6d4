package ai.nuri.loadtest.tool;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.imageio.ImageIO;

/**
 * One measured run: warm-up requests first (left out of every figure), then the prompts sent at
 * their arrival times, at most {@code maxConcurrency} at once (0: no limit), each on a virtual
 * thread. What has finished can be summarised at any moment, so an interrupted run still reports.
 */
final class Runner {
    /** How a run sends its prompts; {@code warmupPrompts} are sent first and measured in nothing. */
    record Plan(List<Dataset.Prompt> prompts, double requestRate, double burstiness, int maxConcurrency, long seed,
            double imageRatio, List<Dataset.Prompt> warmupPrompts, Slo slo) {
        Plan {
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("--num-prompts must be at least 1");
            }
            Arrivals.gaps(1, requestRate, burstiness, seed); // a bad rate or burstiness fails here, before any traffic
        }

        int warmup() {
            return warmupPrompts.size();
        }
    }

    private final StreamClient client;
    private final Plan plan;
    private final List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
    private volatile long startNanos;

    Runner(StreamClient client, Plan plan) {
        this.client = client;
        this.plan = plan;
    }

    /** Runs every prompt; {@code onDone} hears of each finished request (for a progress bar). */
    Map<String, Object> run(Consumer<Outcome> onDone) throws InterruptedException {
        SplittableRandom pick = new SplittableRandom(plan.seed());
        String image = plan.imageRatio() > 0 ? bundledImage() : null;
        List<String> bodies = new ArrayList<>();
        for (Dataset.Prompt p : plan.prompts()) {
            bodies.add(client.body(p, image != null && pick.nextDouble() < plan.imageRatio() ? image : null));
        }
        List<String> warmupBodies = new ArrayList<>();
        for (Dataset.Prompt p : plan.warmupPrompts()) {
            warmupBodies.add(client.body(p, null));
        }
        warmUp(warmupBodies);
        double[] gaps = Arrivals.gaps(bodies.size(), plan.requestRate(), plan.burstiness(), plan.seed());
        Semaphore slots = new Semaphore(plan.maxConcurrency() > 0 ? plan.maxConcurrency() : Integer.MAX_VALUE);
        startNanos = System.nanoTime();
        long due = startNanos;
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < bodies.size(); i++) {
                due += (long) (gaps[i] * 1e9);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                slots.acquire();
                String body = bodies.get(i);
                double sentAt = (System.nanoTime() - startNanos) / 1e9;
                threads.submit(() -> {
                    Outcome o;
                    try {
                        o = client.send(body, startNanos);
                    } catch (RuntimeException e) { // never lose a request: whatever went wrong is counted
                        o = Outcome.failed("client_error", sentAt, 0);
                    }
                    try {
                        outcomes.add(o);
                        onDone.accept(o);
                    } finally {
                        slots.release();
                    }
                });
            }
        }
        return summary();
    }

    private void warmUp(List<String> bodies) throws InterruptedException {
        if (plan.warmup() <= 0) {
            return;
        }
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Semaphore slots = new Semaphore(plan.maxConcurrency() > 0 ? plan.maxConcurrency() : Integer.MAX_VALUE);
            long t0 = System.nanoTime();
            for (int i = 0; i < plan.warmup(); i++) {
                slots.acquire();
                String body = bodies.get(i);
                threads.submit(() -> {
                    try {
                        client.send(body, t0);
                    } catch (RuntimeException e) {
                        // a warm-up failure counts in nothing
                    } finally {
                        slots.release();
                    }
                });
            }
        }
    }

    /** The figures of the requests finished so far, with the run's settings and each request's times. */
    Map<String, Object> summary() {
        List<Outcome> done;
        synchronized (outcomes) {
            done = new ArrayList<>(outcomes);
        }
        double duration = startNanos == 0 ? 0 : (System.nanoTime() - startNanos) / 1e9;
        if (!done.isEmpty()) { // until the last request ended, not until this call
            duration = done.stream().mapToDouble(o -> o.start() + o.e2el()).max().orElse(duration);
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("num_prompts", plan.prompts().size());
        s.put("request_rate", Double.isInfinite(plan.requestRate()) ? "inf" : plan.requestRate());
        s.put("burstiness", plan.burstiness());
        s.put("max_concurrency", plan.maxConcurrency() > 0 ? plan.maxConcurrency() : null);
        s.putAll(Summary.of(done, Math.max(duration, 1e-9), plan.slo()));
        List<Map<String, Object>> requests = new ArrayList<>();
        done.sort(java.util.Comparator.comparingDouble(Outcome::start));
        for (Outcome o : done) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("start", o.start());
            r.put("ttft", o.ok() ? o.ttft() : null);
            r.put("e2el", o.e2el());
            r.put("input_len", o.promptTokens());
            r.put("output_len", o.outputTokens());
            r.put("error", o.error());
            requests.add(r);
        }
        s.put("requests", requests);
        return s;
    }

    /** A small picture (a red circle) for requests that carry an image, as a data: URL. */
    static String bundledImage() {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 64, 64);
        g.setColor(Color.RED);
        g.fillOval(12, 12, 40, 40);
        g.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", png);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png.toByteArray());
    }
}
