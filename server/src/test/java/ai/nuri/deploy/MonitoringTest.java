package ai.nuri.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.http.ServedForDeployTests;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped Prometheus config, rules and Grafana dashboard, checked by promtool and then for
 * real: a Prometheus server scrapes a Nuri server under traffic with the shipped rules, and
 * every dashboard query and every recording rule must return data. A panel naming a metric the
 * server does not export fails here.
 */
class MonitoringTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void promtoolAcceptsTheConfigAndRulesAndTheRuleUnitTestsPass() throws Exception {
        Tools.Result config = Tools.run(List.of("promtool", "check", "config", "prometheus/prometheus.yml"));
        assertEquals(0, config.exitCode(), config.output());
        List<String> rules = new ArrayList<>(List.of("promtool", "check", "rules"));
        try (var files = Files.list(Tools.DEPLOY.resolve("prometheus/rules"))) {
            files.sorted().forEach(f -> rules.add("prometheus/rules/" + f.getFileName()));
        }
        Tools.Result checked = Tools.run(rules);
        assertEquals(0, checked.exitCode(), checked.output());
        Tools.Result tested = Tools.run(List.of("promtool", "test", "rules", "prometheus/tests/nuri-rules-test.yml"));
        assertEquals(0, tested.exitCode(), tested.output());
    }

    /** Every query of the dashboard, with Grafana's variables filled in as "all". */
    static Map<String, String> dashboardQueries() throws IOException {
        JsonNode dashboard = JSON.readTree(Tools.DEPLOY.resolve("grafana/dashboards/nuri.json").toFile());
        Map<String, String> queries = new LinkedHashMap<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                String expr = target.get("expr").asText().replace("$model", ".*").replace("$instance", ".*")
                        .replace("$__rate_interval", "30s");
                queries.put(panel.get("title").asText() + " / " + target.get("refId").asText(), expr);
            }
        }
        for (JsonNode variable : dashboard.at("/templating/list")) {
            if (variable.path("type").asText().equals("query")) {
                String q = variable.at("/query/query").asText().replace("$model", ".*");
                // label_values(metric, label) is Grafana's: check the metric it reads.
                queries.put("variable " + variable.get("name").asText(), q.replaceAll("label_values\\((.*), \\w+\\)", "$1"));
            }
        }
        return queries;
    }

    static List<String> recordingRules() throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : Files.readAllLines(Tools.DEPLOY.resolve("prometheus/rules/nuri-recording.yml"))) {
            if (line.strip().startsWith("- record:")) {
                names.add(line.strip().substring("- record:".length()).strip());
            }
        }
        return names;
    }

    @Test
    void aRealPrometheusScrapingARealServerHasDataForEveryPanelAndRule() throws Exception {
        int[] nuriPort = new int[1];
        int promPort;
        try (ServerSocket s = new ServerSocket(0)) {
            promPort = s.getLocalPort();
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try (AutoCloseable nuri = ServedForDeployTests.start(nuriPort)) {
            // The shipped config, pointed at this server, scraping and evaluating every second.
            String shipped = Files.readString(Tools.DEPLOY.resolve("prometheus/prometheus.yml"));
            String config = shipped.replace("scrape_interval: 15s", "scrape_interval: 1s")
                    .replace("evaluation_interval: 15s", "evaluation_interval: 1s")
                    .replace("\"nuri:8000\"", "\"127.0.0.1:" + nuriPort[0] + "\"")
                    .replace("- rules/", "- " + Tools.DEPLOY.resolve("prometheus/rules") + "/");
            assertTrue(config.contains("127.0.0.1:" + nuriPort[0]), "the scrape target was rewritten");
            Path configFile = tmp.resolve("prometheus.yml");
            Files.writeString(configFile, config);
            Process prometheus = new ProcessBuilder("prometheus", "--config.file=" + configFile,
                    "--storage.tsdb.path=" + tmp.resolve("data"), "--web.listen-address=127.0.0.1:" + promPort)
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("prometheus.log").toFile()).start();
            try {
                String prom = "http://127.0.0.1:" + promPort;
                waitUntil(() -> get(http, prom + "/-/ready").statusCode() == 200, 30);
                String nuriUrl = "http://127.0.0.1:" + nuriPort[0];
                long until = System.nanoTime() + 12_000_000_000L;
                int i = 0;
                while (System.nanoTime() < until) { // traffic: plain, streamed, and a few bad requests
                    String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"안녕하세요.\"}]"
                            + (i % 3 == 0 ? ",\"stream\":true" : "") + (i % 5 == 0 ? ",\"temperature\":9" : "") + "}";
                    post(http, nuriUrl + "/v1/chat/completions", body);
                    if (i++ % 10 == 0) {
                        System.gc(); // the server runs in this JVM: give the GC panels a pause to show
                    }
                }
                Thread.sleep(2500); // two more scrapes and rule evaluations after the last request
                List<String> empty = new ArrayList<>();
                for (Map.Entry<String, String> q : dashboardQueries().entrySet()) {
                    if (!hasData(http, prom, q.getValue())) {
                        empty.add(q.getKey() + ": " + q.getValue());
                    }
                }
                for (String rule : recordingRules()) {
                    if (!hasData(http, prom, rule)) {
                        empty.add("recording rule " + rule);
                    }
                }
                assertTrue(empty.isEmpty(), "queries without data:\n" + String.join("\n", empty) + "\n"
                        + Files.readString(tmp.resolve("prometheus.log")).lines().filter(l -> l.contains("level=error"))
                                .limit(5).toList());
                assertTrue(dashboardQueries().size() >= 28, "the dashboard has its panels and variables");
            } finally {
                prometheus.destroy();
                prometheus.waitFor();
            }
        }
    }

    static boolean hasData(HttpClient http, String prom, String query) throws Exception {
        HttpResponse<String> r = get(http, prom + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
        JsonNode body = JSON.readTree(r.body());
        return body.path("status").asText().equals("success") && !body.at("/data/result").isEmpty();
    }

    static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static void post(HttpClient http, String url, String body) throws Exception {
        http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitUntil(Check check, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (check.ok()) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out");
    }
}
