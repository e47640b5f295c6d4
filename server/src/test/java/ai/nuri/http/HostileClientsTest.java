package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.engine.EngineConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Clients that trickle, stall, stop reading or vanish, over raw sockets where an HTTP library would
 * be too polite: each is cut off within the idle timeout, the server never buffers without bound,
 * and whatever they leave behind (sequences, KV blocks, NDArrays) returns to the pool.
 */
class HostileClientsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration IDLE = Duration.ofSeconds(1);

    static TestServer server(EngineConfig engine, long stepDelayMillis) throws IOException {
        return new TestServer(TestServer.DEMO, engine, TestServer.config(List.of(), 0).withIdleTimeout(IDLE),
                m -> stepDelayMillis > 0 ? new TestServer.SlowSteps(m, stepDelayMillis) : m);
    }

    @Test
    void slowlorisSlowBodiesAndIdleConnectionsAreClosed() throws Exception {
        try (TestServer s = server(new EngineConfig(8, 512, 256, 16, 16, 512), 0)) {
            try (Socket silent = connect(s)) {
                assertClosedWithin(silent, Duration.ofSeconds(4), "a connection that sends nothing");
            }
            try (Socket slowloris = connect(s)) {
                OutputStream out = slowloris.getOutputStream();
                out.write("GET /v1/models HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                long start = System.nanoTime();
                boolean closed = false;
                for (int i = 0; i < 40 && !closed; i++) { // a header byte every 200 ms, never finishing the head
                    try {
                        out.write('X');
                        out.flush();
                        Thread.sleep(200);
                    } catch (SocketException e) {
                        closed = true;
                    }
                    closed |= isClosed(slowloris);
                }
                assertTrue(closed, "the slowloris connection was closed");
                assertTrue(System.nanoTime() - start < 4_000_000_000L, "within the idle timeout, not when it gave up");
            }
            try (Socket slowBody = connect(s)) {
                slowBody.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 100\r\n\r\n{\"model\":").getBytes(StandardCharsets.US_ASCII));
                assertClosedWithin(slowBody, Duration.ofSeconds(4), "a body that never completes");
            }
            try (Socket keepAlive = connect(s)) {
                keepAlive.getOutputStream().write("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String answer = readSome(keepAlive.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
                assertClosedWithin(keepAlive, Duration.ofSeconds(4), "a keep-alive connection left idle");
            }
            assertEquals(200, s.get("/v1/models").statusCode(), "and the server serves everyone else");
        }
    }

    @Test
    void oversizedHeadsDeepJsonBadNumbersAndInvalidUtf8AreRefused() throws Exception {
        try (TestServer s = server(new EngineConfig(8, 512, 256, 16, 16, 512), 0)) {
            assertEquals(414, rawStatus(s, "GET /v1/models?q=" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
            assertEquals(431, rawStatus(s, "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n"));
            String deep = "{\"model\":\"nuri-ko-mini\",\"messages\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
            assertBadRequest(s.post("/v1/chat/completions", deep), "nesting");
            for (String bad : List.of("\"max_tokens\":1e30", "\"max_tokens\":-1", "\"temperature\":1e400", "\"top_p\":2",
                    "\"n\":100000", "\"seed\":1.5", "\"top_logprobs\":1000000")) {
                HttpResponse<String> r = s.post("/v1/chat/completions", TestServer.chatBody("안녕", bad));
                assertEquals(400, r.statusCode(), bad + ": " + r.body());
            }
            byte[] invalid = ("{\"model\":\"nuri-ko-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"ab\"}]}")
                    .getBytes(StandardCharsets.UTF_8);
            invalid[invalid.length - 7] = (byte) 0xC3; // a lead byte, then 'b' where a continuation byte must be
            int status = rawStatus(s, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + invalid.length + "\r\nConnection: close\r\n\r\n", invalid);
            assertEquals(400, status, "invalid UTF-8 in the body");
            assertBadRequest(s.post("/v1/chat/completions", "{\"model\":\"nuri-ko-mini\",\"messages\":[{\"role\":\"user\","
                    + "\"content\":\"a\u0000\"}]}"), "JSON"); // a raw control character inside a JSON string
            assertEquals(200, s.get("/v1/models").statusCode());
        }
    }

    @Test
    void aStreamingClientThatStopsReadingIsDroppedAndCounted() throws Exception {
        try (TestServer s = server(new EngineConfig(8, 512, 256, 16, 16, 512), 0)) {
            int baseline = s.model.liveArrayCount();
            // Eight choices of 400 tokens, each chunk with 20 alternatives: megabytes the client never reads.
            String body = TestServer.chatBody("안녕하세요.", "\"stream\":true,\"ignore_eos\":true,\"max_tokens\":400,\"n\":8,"
                    + "\"logprobs\":true,\"top_logprobs\":20");
            try (Socket stalled = new Socket()) {
                stalled.setReceiveBufferSize(4096);
                stalled.connect(new InetSocketAddress("127.0.0.1", s.port));
                postChat(stalled, body);
                assertTrue(AccessAndPrivacyTest.eventually(() -> s.metric(
                        "nuri_request_failure_total{model_name=\"nuri-ko-mini\",reason=\"slow_reader\"}") == 8.0, Duration.ofSeconds(90)),
                        "its eight sequences were cancelled as slow_reader"); // megabytes must be made first: slow on a busy machine
            }
            assertTrue(AccessAndPrivacyTest.eventually(() -> s.metric("nuri_kv_cache_usage_ratio") == 0.0));
            assertEquals(0.0, s.metric("nuri_num_requests_running"));
            assertEquals(baseline, s.model.liveArrayCount());
        }
    }

    @Test
    void aClientThatLeavesWhileSendingParsedOrQueuedCostsNothing() throws Exception {
        // One sequence at a time, 20 ms steps: a long request holds the engine while others queue behind it.
        try (TestServer s = server(new EngineConfig(1, 512, 256, 16, 16, 512), 20)) {
            int baseline = s.model.liveArrayCount();
            CompletableFuture<HttpResponse<String>> holder = s.http.sendAsync(ServingBehaviourTest.streamRequest(s,
                    TestServer.chatBody("안녕하세요.", "\"ignore_eos\":true,\"max_tokens\":100")), HttpResponse.BodyHandlers.ofString());
            assertTrue(AccessAndPrivacyTest.eventually(() -> s.metric("nuri_num_requests_running") == 1.0));

            // While sending: half a body, then gone.
            try (Socket sending = connect(s)) {
                sending.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n"
                        + "{\"model\":\"nuri-ko-mini\",").getBytes(StandardCharsets.US_ASCII));
            }
            // While parsed: closed as soon as the body is sent (it may or may not reach the engine; it never runs).
            String big = TestServer.chatBody("안녕", "\"max_tokens\":5");
            try (Socket parsed = connect(s)) {
                postChat(parsed, big);
            }
            // While queued: behind the long request, then gone.
            String queuedBody = TestServer.chatBody("여권", "\"stream\":true,\"max_tokens\":50");
            try (Socket queued = connect(s)) {
                postChat(queued, queuedBody);
                assertTrue(AccessAndPrivacyTest.eventually(() -> s.metric("nuri_num_requests_waiting") >= 1.0), "it queued");
            }
            assertTrue(AccessAndPrivacyTest.eventually(() -> s.metric(
                    "nuri_request_failure_total{model_name=\"nuri-ko-mini\",reason=\"cancelled\"}") >= 1.0),
                    "the queued one was cancelled before it ran");
            assertEquals(200, holder.get(60, TimeUnit.SECONDS).statusCode(), "the running request was not disturbed");
            assertTrue(AccessAndPrivacyTest.eventually(() -> s.metric("nuri_kv_cache_usage_ratio") == 0.0
                    && s.metric("nuri_num_requests_waiting") == 0.0 && s.metric("nuri_num_requests_running") == 0.0));
            assertEquals(0.0, s.metric("nuri_request_success_total{finished_reason=\"length\",model_name=\"nuri-ko-mini\"}") - 1.0,
                    "only the holder ran: the others never made a token");
            assertEquals(baseline, s.model.liveArrayCount());
        }
    }

    @Test
    void aStormOfHundredsOfDisconnectsLeavesNothingBehind() throws Exception {
        try (TestServer s = server(new EngineConfig(64, 512, 2048, 16, 512, 512), 0)) {
            assertEquals(200, s.post("/v1/chat/completions", TestServer.chatBody("안녕", "\"max_tokens\":3")).statusCode());
            int baseline = s.model.liveArrayCount();
            Random random = new Random(7);
            ExecutorService pool = Executors.newFixedThreadPool(32);
            List<CompletableFuture<Void>> clients = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                int linesBeforeLeaving = random.nextInt(12); // 0: gone right after sending
                String body = TestServer.chatBody("안녕하세요. " + i, "\"stream\":true,\"ignore_eos\":true,\"max_tokens\":200");
                clients.add(CompletableFuture.runAsync(() -> {
                    try (Socket c = connect(s)) {
                        postChat(c, body);
                        BufferedReader reader = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
                        for (int l = 0; l < linesBeforeLeaving && reader.readLine() != null; l++) {
                            // read a little of the stream, then vanish
                        }
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }, pool));
            }
            CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            pool.shutdown();
            assertTrue(AccessAndPrivacyTest.eventually(() -> s.metric("nuri_num_requests_running") == 0.0
                    && s.metric("nuri_num_requests_waiting") == 0.0 && s.metric("nuri_kv_cache_usage_ratio") == 0.0),
                    "every sequence cancelled, every block back");
            assertEquals(baseline, s.model.liveArrayCount(), "no NDArray left behind");
            assertEquals(200, s.post("/v1/chat/completions", TestServer.chatBody("안녕", "\"max_tokens\":3")).statusCode());
        }
    }

    /** Writes a chat completion request with this JSON body, and nothing more. */
    private static void postChat(Socket socket, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().write(bytes);
    }

    private static Socket connect(TestServer s) throws IOException {
        Socket socket = new Socket("127.0.0.1", s.port);
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static int rawStatus(TestServer s, String head, byte[]... body) throws IOException {
        try (Socket socket = connect(s)) {
            socket.getOutputStream().write(head.getBytes(StandardCharsets.UTF_8));
            for (byte[] b : body) {
                socket.getOutputStream().write(b);
            }
            String answer = readSome(socket.getInputStream());
            return Integer.parseInt(answer.substring(9, 12));
        }
    }

    private static String readSome(InputStream in) throws IOException {
        byte[] buffer = new byte[4096];
        int n = in.read(buffer);
        return n <= 0 ? "" : new String(buffer, 0, n, StandardCharsets.UTF_8);
    }

    private static void assertBadRequest(HttpResponse<String> r, String about) throws IOException {
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(JSON.readTree(r.body()).at("/error/message").asText().contains(about), r.body());
    }

    private static boolean isClosed(Socket socket) {
        try {
            socket.setSoTimeout(1);
            return socket.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        } finally {
            try {
                socket.setSoTimeout(10_000);
            } catch (SocketException ignored) {
                // closed
            }
        }
    }

    private static void assertClosedWithin(Socket socket, Duration limit, String what) throws IOException {
        socket.setSoTimeout((int) limit.toMillis());
        long start = System.nanoTime();
        int read;
        try {
            while ((read = socket.getInputStream().read()) != -1) {
                // a response to a finished request may come first; the close follows
            }
        } catch (java.net.SocketTimeoutException e) {
            throw new AssertionError(what + " was still open after " + limit);
        } catch (SocketException e) {
            read = -1; // reset by the server: closed too
        }
        assertEquals(-1, read);
        assertTrue(System.nanoTime() - start < limit.toNanos(), what);
    }
}
