package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.engine.EngineConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Continuous batching, cancellation, back-pressure and draining, seen from HTTP clients. */
class ServingBehaviourTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static List<String> corpusQuestions(int n) throws Exception {
        List<String> q = new ArrayList<>();
        for (String line : Files.readAllLines(TestServer.DEMO.getParent().resolve("corpus/ko-public-service-qa.jsonl"))) {
            q.add(JSON.readTree(line).get("question").asText());
            if (q.size() == n) {
                break;
            }
        }
        return q;
    }

    /** Reads an SSE stream to the end; returns the concatenated chat deltas, checking [DONE] closes it. */
    static String readStream(InputStream in) throws Exception {
        StringBuilder text = new StringBuilder();
        boolean sawDone = false;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.startsWith("data: ")) {
                    continue;
                }
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    sawDone = true;
                    continue;
                }
                for (JsonNode choice : JSON.readTree(data).path("choices")) {
                    text.append(choice.path("delta").path("content").asText(""));
                }
            }
        }
        assertTrue(sawDone, "stream ended with [DONE]");
        return text.toString();
    }

    static HttpRequest streamRequest(TestServer s, String body) {
        return HttpRequest.newBuilder(URI.create(s.url("/v1/chat/completions"))).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @Test
    void sixtyFourConcurrentStreamsEachGetTheirSoloTextInOneBatch() throws Exception {
        try (TestServer s = new TestServer()) {
            List<String> questions = corpusQuestions(64);
            List<String> alone = new ArrayList<>();
            for (String q : questions) {
                JsonNode r = JSON.readTree(s.post("/v1/chat/completions", TestServer.chatBody(q, "\"temperature\":0")).body());
                alone.add(r.at("/choices/0/message/content").asText());
            }
            List<CompletableFuture<String>> streams = new ArrayList<>();
            for (String q : questions) {
                streams.add(s.http.sendAsync(streamRequest(s, TestServer.chatBody(q, "\"temperature\":0,\"stream\":true")),
                        HttpResponse.BodyHandlers.ofInputStream()).thenApply(resp -> {
                            try {
                                return readStream(resp.body());
                            } catch (Exception e) {
                                throw new RuntimeException(e);
                            }
                        }));
            }
            for (int i = 0; i < questions.size(); i++) {
                assertEquals(alone.get(i), streams.get(i).get(), questions.get(i));
            }
            // From the batch-size histogram: steps in all, and steps of at most 24 sequences.
            String scrape = s.get("/metrics").body();
            double steps = histogramValue(scrape, "nuri_batch_size_count{model_name=\"nuri-ko-mini\"}");
            double small = histogramValue(scrape, "nuri_batch_size_bucket{model_name=\"nuri-ko-mini\",le=\"24.0\"}");
            assertTrue(steps - small > 0, "some step batched more than 24 of the 64 streams (" + steps + " steps, "
                    + small + " of at most 24)");
        }
    }

    static double histogramValue(String scrape, String series) {
        return scrape.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no " + series));
    }

    @Test
    void aClientThatDisconnectsIsCancelledAndItsBlocksFreed() throws Exception {
        // 10 ms per step, so the 400 tokens cannot all be made before the client has read six lines and hung up.
        try (TestServer s = new TestServer(new EngineConfig(64, 512, 2048, 16, 256, 512), TestServer.config(List.of(), 0), 10)) {
            HttpResponse<InputStream> resp = s.http.send(streamRequest(s, TestServer.chatBody("안녕하세요.",
                    "\"stream\":true,\"ignore_eos\":true,\"max_tokens\":400")), HttpResponse.BodyHandlers.ofInputStream());
            BufferedReader reader = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8));
            for (int i = 0; i < 6; i++) {
                reader.readLine();
            }
            assertEquals(1.0, s.metric("nuri_num_requests_running"));
            assertTrue(s.metric("nuri_kv_cache_usage_ratio") > 0);
            resp.body().close();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline && s.metric("nuri_kv_cache_usage_ratio") > 0) {
                Thread.sleep(20);
            }
            assertEquals(0.0, s.metric("nuri_kv_cache_usage_ratio"), "KV blocks returned");
            assertEquals(0.0, s.metric("nuri_num_requests_running"));
            assertEquals(1.0, s.metric("nuri_request_failure_total{model_name=\"nuri-ko-mini\",reason=\"cancelled\"}"), "counted as cancelled");
        }
    }

    @Test
    void aFullQueueAnswers503WithRetryAfter() throws Exception {
        // 30 ms per step: the first request runs for about 4 s whatever the machine's speed, so the second is
        // seen waiting (without it a fast machine finished 300 tokens before the second arrived).
        try (TestServer s = new TestServer(new EngineConfig(1, 512, 64, 16, 1, 512), TestServer.config(List.of(), 0), 30)) {
            String longRun = TestServer.chatBody("안녕하세요.", "\"ignore_eos\":true,\"max_tokens\":120");
            CompletableFuture<HttpResponse<String>> first = s.http.sendAsync(streamRequest(s, longRun), HttpResponse.BodyHandlers.ofString());
            waitFor(s, "nuri_num_requests_running", 1);
            CompletableFuture<HttpResponse<String>> second = s.http.sendAsync(streamRequest(s, longRun), HttpResponse.BodyHandlers.ofString());
            waitFor(s, "nuri_num_requests_waiting", 1);
            HttpResponse<String> third = s.post("/v1/chat/completions", longRun);
            assertEquals(503, third.statusCode());
            assertEquals("1", third.headers().firstValue("Retry-After").orElseThrow());
            assertEquals("queue_full", JSON.readTree(third.body()).at("/error/code").asText());
            assertEquals(200, first.get().statusCode());
            assertEquals(200, second.get().statusCode());
            assertEquals(1.0, s.metric("nuri_requests_rejected_total{model_name=\"nuri-ko-mini\",reason=\"queue_full\"}"));
        }
    }

    @Test
    void drainingTurnsReadinessOffRefusesNewWorkAndFinishesWhatRuns() throws Exception {
        TestServer s = new TestServer();
        try {
            assertEquals(200, s.get("/ready").statusCode());
            HttpResponse<InputStream> resp = s.http.send(streamRequest(s, TestServer.chatBody("안녕하세요.",
                    "\"stream\":true,\"ignore_eos\":true,\"max_tokens\":150")), HttpResponse.BodyHandlers.ofInputStream());
            BufferedReader reader = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8));
            reader.readLine(); // the role chunk: the request is in flight
            Thread drainer = new Thread(s.server::drain);
            drainer.start();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!s.server.isDraining() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(503, s.get("/ready").statusCode());
            assertEquals(200, s.get("/health").statusCode(), "liveness does not depend on draining");
            HttpResponse<String> refused = s.post("/v1/chat/completions", TestServer.chatBody("안녕하세요.", ""));
            assertEquals(503, refused.statusCode());
            assertTrue(refused.headers().firstValue("Retry-After").isPresent());
            int chunks = 0;
            boolean done = false;
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("data: ")) {
                    chunks++;
                    done |= line.equals("data: [DONE]");
                }
            }
            assertTrue(done, "the in-flight stream finished");
            assertTrue(chunks > 100, "all of its tokens came: " + chunks);
            drainer.join(30_000);
            assertTrue(!drainer.isAlive(), "drain returned once idle");
        } finally {
            s.close();
        }
    }

    @Test
    void aRequestPastItsTimeoutIsCancelledWith504() throws Exception {
        // 5 ms per step: 490 steps take at least 2.4 s, well past the 300 ms timeout on any machine.
        try (TestServer s = new TestServer(new EngineConfig(8, 512, 256, 16, 16, 512),
                TestServer.config(List.of(), 0, Duration.ofMillis(300)), 5)) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = s.post("/v1/chat/completions",
                    TestServer.chatBody("안녕하세요.", "\"ignore_eos\":true,\"max_tokens\":490,\"n\":4"));
            assertEquals(504, r.statusCode(), r.body());
            assertEquals("request_timeout", JSON.readTree(r.body()).at("/error/code").asText());
            assertTrue((System.nanoTime() - t0) / 1e9 < 5, "answered at the timeout, not at the end");
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < deadline && s.metric("nuri_kv_cache_usage_ratio") > 0) {
                Thread.sleep(20);
            }
            assertEquals(0.0, s.metric("nuri_kv_cache_usage_ratio"), "its sequences were cancelled");
            assertEquals(200, s.post("/v1/chat/completions", TestServer.chatBody("안녕하세요.", "\"max_tokens\":3")).statusCode());
        }
    }

    /** Until a scrape shows {@code value} (the value seen is the one asserted: a later scrape may already differ). */
    static void waitFor(TestServer s, String metric, double value) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        double seen = s.metric(metric);
        while (System.nanoTime() < deadline && seen != value) {
            Thread.sleep(10);
            seen = s.metric(metric);
        }
        assertEquals(value, seen, metric);
    }
}
