package ai.nuri.loadtest.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.http.ModelRegistry;
import ai.nuri.http.NuriServer;
import ai.nuri.http.ServedModel;
import ai.nuri.http.ServerConfig;
import ai.nuri.metrics.ModelMetrics;
import ai.nuri.metrics.NuriMetrics;
import ai.nuri.model.LanguageModel;
import ai.nuri.text.Tokenizer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The tool against a real Nuri server serving the demo model: every request accounted for, token totals as the server counts them. */
class RealServerTest {
    static final Path DEMO = Path.of(System.getProperty("nuri.modelStore", "../model-store")).resolve("nuri-ko-mini");

    static double generationTokens(int port) throws Exception {
        String scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^nuri_generation_tokens_total\\{[^}]*\\} ([0-9.eE+-]+)$").matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void aSmallRunIsFullyAccountedForAndAgreesWithTheServersCounter() throws Exception {
        try (LanguageModel model = LanguageModel.load(DEMO); Tokenizer tokenizer = Tokenizer.load(DEMO)) {
            NuriMetrics metrics = new NuriMetrics();
            Engine[] e = new Engine[1];
            ModelMetrics mm = metrics.forModel(model.id(), () -> e[0].runningCount(), () -> e[0].waitingCount(),
                    () -> e[0].kvCacheUsage(), () -> e[0].stateUsage());
            e[0] = new Engine(model, tokenizer, new EngineConfig(16, 512, 512, 16, 64, 512), mm);
            NuriServer server = new NuriServer(new ServerConfig("127.0.0.1", 0, List.of(), 1 << 20, 0, List.of(),
                    Duration.ofSeconds(5), Duration.ZERO), new ModelRegistry(List.of(new ServedModel(model.id(), e[0], mm, 1L))),
                    metrics);
            int port = server.start().await();
            try {
                double before = generationTokens(port);
                StreamClient client = new StreamClient(new StreamClient.Target(URI.create("http://127.0.0.1:" + port + "/v1"),
                        "chat", "nuri-ko-mini", null, false, Duration.ofSeconds(60)));
                List<Dataset.Prompt> prompts = Dataset.load(Dataset.BUNDLED, 18, 3, null, null, false);
                Runner.Plan plan = new Runner.Plan(prompts.subList(2, 18), 20, 1, 8, 3, 0, prompts.subList(0, 2), Slo.NONE);
                Map<String, Object> r = new Runner(client, plan).run(o -> { });
                assertEquals(16, r.get("completed"), r.toString());
                assertEquals(0, r.get("failed"));
                long output = (Long) r.get("total_output_tokens");
                double after = generationTokens(port);
                // The 2 warm-up requests count on the server but not in the run.
                assertTrue(after - before >= output, after + " - " + before + " vs " + output);
                Map<String, Object> alone = new Runner(client, new Runner.Plan(plan.prompts(), 20, 1, 8, 3, 0, List.of(), Slo.NONE))
                        .run(o -> { });
                double end = generationTokens(port);
                assertEquals(end - after, ((Long) alone.get("total_output_tokens")).doubleValue(),
                        "without warm-up, the usage totals equal the increase of nuri_generation_tokens_total");
                assertTrue(((Number) alone.get("median_ttft_ms")).doubleValue() > 0);
            } finally {
                server.close();
                e[0].close();
            }
        }
    }
}
