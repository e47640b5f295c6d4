package ai.nuri.loadtest.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Sends one streaming request to an OpenAI-compatible server and times it: TTFT at the first
 * chunk with non-empty content, ITL between content chunks, E2EL at the end of the stream; token
 * counts from the usage chunk ({@code stream_options.include_usage}). Whatever the server does
 * (an error status, a reset, a stall past the timeout) becomes a failed {@link Outcome}, never an
 * exception.
 */
final class StreamClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What every request of a run shares. */
    record Target(URI baseUrl, String endpoint, String model, String apiKey, boolean ignoreEos, Duration timeout) {}

    /** Ends streams that run past the timeout (the HTTP client's own timeout stops at the headers). */
    private static final java.util.concurrent.ScheduledThreadPoolExecutor WATCHDOG =
            new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "nuri-loadtest-watchdog");
                t.setDaemon(true);
                return t;
            });

    static {
        WATCHDOG.setRemoveOnCancelPolicy(true); // a finished request's timer leaves the queue at once
    }

    private final Target target;
    private final HttpClient http;

    StreamClient(Target target) {
        this.target = target;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).version(HttpClient.Version.HTTP_1_1).build();
    }

    Target target() {
        return target;
    }

    /** The generating route under the base URL: {@code /chat/completions} or {@code /completions}. */
    String path() {
        return target.endpoint().equals("chat") ? "/chat/completions" : "/completions";
    }

    /** A POST of {@code body} to the route, with the key if there is one. */
    private HttpRequest.Builder request(String body) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(target.baseUrl() + path())).timeout(target.timeout())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (target.apiKey() != null) {
            req.header("Authorization", "Bearer " + target.apiKey());
        }
        return req;
    }

    /**
     * A client that leaves mid-stream: sends the request, reads {@code lines} lines of the answer
     * (0: none), then closes the connection.
     */
    void sendAndAbandon(String body, int lines) throws IOException {
        HttpRequest.Builder req = request(body);
        try {
            HttpResponse<java.io.InputStream> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (java.io.BufferedReader reader = new java.io.BufferedReader(
                    new java.io.InputStreamReader(resp.body(), java.nio.charset.StandardCharsets.UTF_8))) {
                for (int i = 0; i < lines && reader.readLine() != null; i++) {
                    // read what a user saw before closing the tab
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String body(Dataset.Prompt p, String imageDataUrl) {
        ObjectNode b = JSON.createObjectNode();
        if (target.model() != null) {
            b.put("model", target.model());
        }
        if (target.endpoint().equals("chat")) {
            ObjectNode m = b.putArray("messages").addObject().put("role", "user");
            if (imageDataUrl == null) {
                m.put("content", p.text());
            } else {
                ArrayNode parts = m.putArray("content");
                parts.addObject().put("type", "image_url").putObject("image_url").put("url", imageDataUrl);
                parts.addObject().put("type", "text").put("text", p.text());
            }
        } else if (p.tokenIds() != null) {
            ArrayNode ids = b.putArray("prompt");
            for (int id : p.tokenIds()) {
                ids.add(id);
            }
        } else {
            b.put("prompt", p.text());
        }
        b.put("max_tokens", p.outputLen());
        b.put("stream", true);
        b.putObject("stream_options").put("include_usage", true);
        if (target.ignoreEos()) {
            b.put("ignore_eos", true);
        }
        return b.toString();
    }

    Outcome send(String body, long runStartNanos) {
        HttpRequest.Builder req = request(body);
        long sent = System.nanoTime();
        double start = (sent - runStartNanos) / 1e9;
        try {
            HttpResponse<Stream<String>> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofLines());
            if (resp.statusCode() != 200) {
                resp.body().close();
                return Outcome.failed("http_" + resp.statusCode(), start, (System.nanoTime() - sent) / 1e9);
            }
            long first = 0;
            long last = 0;
            List<Double> itls = new ArrayList<>();
            int promptTokens = -1;
            int outputTokens = -1;
            boolean done = false;
            long doneAt = 0;
            int chunks = 0;
            java.util.concurrent.atomic.AtomicBoolean timedOut = new java.util.concurrent.atomic.AtomicBoolean();
            Stream<String> stream = resp.body();
            long left = target.timeout().toNanos() - (System.nanoTime() - sent);
            java.util.concurrent.ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> {
                timedOut.set(true);
                stream.close();
            }, Math.max(left, 0), java.util.concurrent.TimeUnit.NANOSECONDS);
            try (Stream<String> lines = stream) {
                for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                    String line = it.next();
                    if (done || !line.startsWith("data:")) {
                        continue; // after [DONE], read to the end so the connection can be reused
                    }
                    String data = line.substring(line.startsWith("data: ") ? 6 : 5);
                    if (data.equals("[DONE]")) {
                        done = true;
                        doneAt = System.nanoTime();
                        continue;
                    }
                    JsonNode chunk;
                    try {
                        chunk = JSON.readTree(data);
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        return Outcome.failed("bad_stream", start, (System.nanoTime() - sent) / 1e9);
                    }
                    if (chunk.has("error") || chunk.path("object").asText().equals("error")) {
                        return Outcome.failed("stream_error", start, (System.nanoTime() - sent) / 1e9);
                    }
                    JsonNode usage = chunk.get("usage");
                    if (usage != null && usage.isObject()) {
                        promptTokens = usage.path("prompt_tokens").asInt();
                        outputTokens = usage.path("completion_tokens").asInt();
                    }
                    String text = content(chunk);
                    if (!text.isEmpty()) {
                        chunks++;
                        long now = System.nanoTime();
                        if (first == 0) {
                            first = now;
                        } else {
                            itls.add((now - last) / 1e9);
                        }
                        last = now;
                    }
                }
            }
            catch (java.io.UncheckedIOException e) {
                if (!timedOut.get()) {
                    throw e;
                }
            } finally {
                watchdog.cancel(false);
            }
            long end = done ? doneAt : System.nanoTime();
            if (timedOut.get() && !done) {
                return Outcome.failed("timeout", start, (end - sent) / 1e9);
            }
            if (!done) {
                return Outcome.failed("stream_cut", start, (end - sent) / 1e9);
            }
            if (first == 0) {
                return Outcome.failed("no_content", start, (end - sent) / 1e9);
            }
            boolean estimated = outputTokens < 0; // no usage chunk: count content chunks, as a lower bound
            return new Outcome(true, null, start, (first - sent) / 1e9, itls, (end - sent) / 1e9,
                    estimated ? 0 : promptTokens, estimated ? chunks : outputTokens, estimated);
        } catch (HttpTimeoutException e) {
            return Outcome.failed("timeout", start, (System.nanoTime() - sent) / 1e9);
        } catch (IOException | java.io.UncheckedIOException e) {
            return Outcome.failed("connection_error", start, (System.nanoTime() - sent) / 1e9);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.failed("interrupted", start, (System.nanoTime() - sent) / 1e9);
        }
    }

    private static String content(JsonNode chunk) {
        JsonNode choice = chunk.path("choices").path(0);
        if (choice.isMissingNode()) {
            return "";
        }
        JsonNode delta = choice.path("delta");
        return delta.isObject() ? delta.path("content").asText("") : choice.path("text").asText("");
    }
}
