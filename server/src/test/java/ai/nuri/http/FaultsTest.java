package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.engine.EngineConfig;
import ai.nuri.engine.EngineObserver;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults inside the engine fail only the requests they touch, each with an error its client sees,
 * and the engine goes on: a sequence whose logits turn NaN (a checkpoint whose embedding row for
 * one token is NaN, as an fp16 overflow leaves it), and an exception thrown inside a step.
 */
class FaultsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int POISONED_TOKEN = 3000;

    @TempDir
    Path dir;

    @Test
    void aSequenceWhoseLogitsTurnNanFailsAloneAndTheOthersGoOn() throws Exception {
        Path folder = poisonedCopy(dir.resolve("nuri-ko-mini"));
        String normal = TestServer.chatBody("여권은 어디서 만들어요?", "\"max_tokens\":40,\"ignore_eos\":true,\"temperature\":0");
        try (TestServer s = new TestServer(folder, new EngineConfig(8, 512, 256, 16, 16, 512), TestServer.config(List.of(), 0), 5)) {
            String solo = content(s.post("/v1/chat/completions", normal));
            int baseline = s.model.liveArrayCount();
            CompletableFuture<HttpResponse<String>> healthy = s.http.sendAsync(post(s, "/v1/chat/completions", normal),
                    HttpResponse.BodyHandlers.ofString());
            String poisoned = "{\"model\":\"nuri-ko-mini\",\"prompt\":[5," + POISONED_TOKEN + ",7],\"max_tokens\":5}";
            HttpResponse<String> failed = s.post("/v1/completions", poisoned);
            assertEquals(500, failed.statusCode(), failed.body());
            assertTrue(failed.body().contains("not finite"), failed.body());
            // Greedy: its row is reduced to the argmax where the logits lie, and the max shows the NaN.
            HttpResponse<String> greedy = s.post("/v1/completions", poisoned.replace("}", ",\"temperature\":0}"));
            assertEquals(500, greedy.statusCode(), greedy.body());
            assertTrue(greedy.body().contains("not finite"), greedy.body());
            HttpResponse<String> other = healthy.get(60, TimeUnit.SECONDS);
            assertEquals(200, other.statusCode(), other.body());
            assertEquals(solo, content(other), "the request beside it was not disturbed");
            assertEquals(solo, content(s.post("/v1/chat/completions", normal)), "and the engine goes on");
            assertEquals(2.0, s.metric("nuri_request_failure_total{model_name=\"nuri-ko-mini\",reason=\"numerical_error\"}"));
            assertEquals(0.0, s.metric("nuri_kv_cache_usage_ratio"));
            assertEquals(baseline, s.model.liveArrayCount(), "no NDArray left behind");
            assertEquals(200, s.get("/health").statusCode());
        }
    }

    @Test
    void anExceptionInsideAStepFailsThatStepsRequestsOnly() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        // Throws once, from inside the step, on the first step that runs two sequences after being armed.
        java.util.function.UnaryOperator<EngineObserver> faulty = meters -> new TestServer.SlowSteps(meters, 5) {
            @Override
            public void onStep(int batchSize, int scheduledTokens, double seconds) {
                super.onStep(batchSize, scheduledTokens, seconds);
                if (batchSize == 2 && armed.compareAndSet(true, false)) {
                    throw new IllegalStateException("injected fault");
                }
            }
        };
        // Two sequences at most per step: of three streams, two are in the failing step and one waits.
        try (TestServer s = new TestServer(TestServer.DEMO, new EngineConfig(2, 512, 256, 16, 16, 512),
                TestServer.config(List.of(), 0), faulty)) {
            String body = TestServer.chatBody("안녕하세요.", "\"max_tokens\":30,\"ignore_eos\":true,\"stream\":true");
            armed.set(true);
            List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                streams.add(s.http.sendAsync(post(s, "/v1/chat/completions", body), HttpResponse.BodyHandlers.ofString()));
            }
            int failed = 0;
            int finished = 0;
            for (CompletableFuture<HttpResponse<String>> f : streams) {
                String stream = f.get(60, TimeUnit.SECONDS).body();
                assertTrue(stream.endsWith("data: [DONE]\n\n"), stream);
                if (stream.contains("\"code\":\"internal_error\"")) {
                    assertTrue(stream.contains("injected fault"), stream);
                    failed++;
                } else {
                    assertTrue(stream.contains("\"finish_reason\":\"length\""), stream);
                    finished++;
                }
            }
            assertEquals(2, failed, "the two sequences of the failing step");
            assertEquals(1, finished, "the waiting one ran afterwards");
            assertFalse(armed.get(), "the fault fired");
            assertEquals(200, s.post("/v1/chat/completions", TestServer.chatBody("안녕", "\"max_tokens\":3")).statusCode());
            assertEquals(2.0, s.metric("nuri_request_failure_total{model_name=\"nuri-ko-mini\",reason=\"engine_error\"}"));
            assertEquals(0.0, s.metric("nuri_kv_cache_usage_ratio"));
            assertEquals(200, s.get("/health").statusCode(), "the engine thread lives");
        }
    }

    @Test
    void healthTurns503WhenTheEngineThreadIsGone() throws Exception {
        try (TestServer s = new TestServer()) {
            assertEquals(200, s.get("/health").statusCode());
            s.engine.close(); // the thread ends, as it would if it died
            HttpResponse<String> health = s.get("/health");
            assertEquals(503, health.statusCode(), "the orchestrator restarts the pod");
            assertTrue(health.body().contains("engine stopped"), health.body());
        }
    }

    @Test
    void aModelFolderThatChangesOrDisappearsWhileServedDoesNotStopTheServer() throws Exception {
        Path folder = dir.resolve("served").resolve("nuri-ko-mini");
        Files.createDirectories(folder);
        try (Stream<Path> files = Files.list(TestServer.DEMO)) {
            for (Path f : files.toList()) {
                Files.copy(f, folder.resolve(f.getFileName()));
            }
        }
        String body = TestServer.chatBody("여권은 어디서 만들어요?", "\"max_tokens\":8,\"temperature\":0");
        try (TestServer s = new TestServer(folder, new EngineConfig(8, 512, 256, 16, 16, 512), TestServer.config(List.of(), 0), 0)) {
            String before = content(s.post("/v1/chat/completions", body));
            Files.writeString(folder.resolve("config.json"), "{ not json");
            Files.writeString(folder.resolve("tokenizer.json"), "");
            Files.write(folder.resolve("model.safetensors"), new byte[] {1, 2, 3});
            assertEquals(before, content(s.post("/v1/chat/completions", body)), "changed files: served from what was loaded");
            try (Stream<Path> files = Files.list(folder)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(folder);
            assertEquals(before, content(s.post("/v1/chat/completions", body)), "a removed folder: the same");
            assertEquals(200, s.post("/tokenize", "{\"prompt\":\"안녕\"}").statusCode());
            assertEquals(200, s.get("/v1/models").statusCode());
            assertEquals(200, s.get("/health").statusCode());
        }
    }

    private static HttpRequest post(TestServer s, String path, String body) {
        return HttpRequest.newBuilder(URI.create(s.url(path))).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static String content(HttpResponse<String> response) throws IOException {
        assertEquals(200, response.statusCode(), response.body());
        JsonNode root = JSON.readTree(response.body());
        return root.at("/choices/0/message/content").asText();
    }

    /** The demo model with the embedding row of {@link #POISONED_TOKEN} set to NaN (BF16 0x7FC0). */
    static Path poisonedCopy(Path folder) throws IOException {
        Files.createDirectories(folder);
        try (Stream<Path> files = Files.list(TestServer.DEMO)) {
            for (Path f : files.toList()) {
                Files.copy(f, folder.resolve(f.getFileName()));
            }
        }
        try (FileChannel file = FileChannel.open(folder.resolve("model.safetensors"), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            file.read(length, 0);
            int headerLength = (int) length.flip().getLong();
            ByteBuffer header = ByteBuffer.allocate(headerLength);
            file.read(header, 8);
            JsonNode embedding = JSON.readTree(header.array()).get("model.embed_tokens.weight");
            assertEquals("BF16", embedding.get("dtype").asText());
            int hidden = embedding.get("shape").get(1).asInt();
            long at = 8 + headerLength + embedding.get("data_offsets").get(0).asLong() + 2L * hidden * POISONED_TOKEN;
            ByteBuffer nan = ByteBuffer.allocate(2 * hidden).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < hidden; i++) {
                nan.putShort((short) 0x7FC0);
            }
            file.write(nan.flip(), at);
        }
        return folder;
    }
}
