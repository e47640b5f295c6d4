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
}
