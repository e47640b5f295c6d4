package ai.nuri.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `serve` as an operator runs it: a separate process that drains on SIGTERM and exits 0. */
class ServeProcessTest {
    @Test
    void sigtermDrainsInFlightWorkThenExitsZero() throws Exception {
        Path store = Path.of(System.getProperty("nuri.modelStore", "../model-store"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process server = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "ai.nuri.cli.NuriCli", "serve", "--port", "0",
                "--model-store", store.toString(), "--models", "nuri-ko-mini", "--drain-timeout", "30")
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            Pattern listening = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)");
            int port = -1;
            String line;
            StringBuilder startup = new StringBuilder();
            while (port < 0 && (line = out.readLine()) != null) {
                startup.append(line).append('\n');
                Matcher m = listening.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            assertTrue(port > 0, "the server printed its port");
            assertFalse(startup.toString().contains("WARN"), "a quiet startup (no GPU probes, no duplicate meters):\n" + startup);
            CompletableFuture.runAsync(() -> out.lines().forEach(l -> { })); // keep draining its output
            HttpClient http = HttpClient.newHttpClient();
            String body = "{\"model\":\"nuri-ko-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"안녕하세요.\"}],"
                    + "\"ignore_eos\":true,\"max_tokens\":300}";
            CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/v1/chat/completions")).timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            String described = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(described.contains("nuri_model_info{architecture=\"NemotronForCausalLM\",block_size=\"16\",device=\"cpu\","
                    + "dtype=\"float32\""), "the info metric describes the served model");
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline) { // wait until the request runs in the engine
                String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                if (metrics.contains("nuri_num_requests_running{model_name=\"nuri-ko-mini\"} 1.0")) {
                    break;
                }
                Thread.sleep(10);
            }
            server.destroy(); // SIGTERM
            HttpResponse<String> finished = inFlight.get(60, TimeUnit.SECONDS);
            assertEquals(200, finished.statusCode(), finished.body());
            assertTrue(finished.body().contains("\"completion_tokens\":300"), "the in-flight request ran to its end");
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the server exited after draining");
            assertEquals(0, server.exitValue());
        } finally {
            server.destroyForcibly();
        }
    }

    /**
     * Past --drain-timeout a stream still running ends with an error event and [DONE]; the server
     * exits 0 with no exception in its log. A second signal while draining exits at once.
     */
    @Test
    void pastTheDrainTimeoutStreamsEndWithAnErrorEventAndASecondSignalExitsAtOnce() throws Exception {
        for (boolean impatient : new boolean[] {false, true}) {
            Path logFile = Files.createTempFile("nuri-serve", ".log");
            Path store = Path.of(System.getProperty("nuri.modelStore", "../model-store"));
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Process server = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), "ai.nuri.cli.NuriCli", "serve", "--port", "0",
                    "--model-store", store.toString(), "--models", "nuri-ko-mini", "--drain-timeout", impatient ? "60" : "1")
                    .redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
            try {
                Pattern listening = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)");
                int port = -1;
                for (long until = System.nanoTime() + 60_000_000_000L; port < 0 && System.nanoTime() < until; Thread.sleep(50)) {
                    Matcher m = listening.matcher(Files.readString(logFile));
                    if (m.find()) {
                        port = Integer.parseInt(m.group(1));
                    }
                }
                assertTrue(port > 0, "the server printed its port");
                HttpClient http = HttpClient.newHttpClient();
                String body = "{\"model\":\"nuri-ko-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"안녕하세요.\"}],"
                        + "\"ignore_eos\":true,\"max_tokens\":480,\"stream\":true}";
                CompletableFuture<HttpResponse<String>> stream = http.sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/v1/chat/completions")).timeout(Duration.ofSeconds(90))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (System.nanoTime() < deadline && !http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body()
                        .contains("nuri_num_requests_running{model_name=\"nuri-ko-mini\"} 1.0")) {
                    Thread.sleep(10);
                }
                server.destroy(); // SIGTERM
                if (impatient) {
                    Thread.sleep(300);
                    new ProcessBuilder("kill", "-INT", Long.toString(server.pid())).start().waitFor();
                    long before = System.nanoTime();
                    assertTrue(server.waitFor(10, TimeUnit.SECONDS), "the second signal ends the process");
                    assertTrue(System.nanoTime() - before < 5_000_000_000L, "at once, not after the 60 s drain");
                    assertEquals(130, server.exitValue());
                    continue;
                }
                HttpResponse<String> ended = stream.get(60, TimeUnit.SECONDS);
                assertTrue(ended.body().contains("\"code\":\"server_draining\""), "an error event: " + tail(ended.body()));
                assertTrue(ended.body().endsWith("data: [DONE]\n\n"), tail(ended.body()));
                assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the server exited after draining");
                assertEquals(0, server.exitValue());
                String log = Files.readString(logFile);
                assertTrue(log.toString().contains("Draining: requests in flight get up to 1 s"), "the log was read:\n" + log);
                assertFalse(log.toString().contains("Exception"), "an orderly shutdown logs no exception:\n" + log);
            } finally {
                server.destroyForcibly();
            }
        }
    }

    private static String tail(String s) {
        return s.substring(Math.max(0, s.length() - 400));
    }
}
