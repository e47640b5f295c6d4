package ai.nuri.loadtest.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The soak against a real Nuri server serving the demo model: CI's five minutes (NURI_SOAK_DURATION
 * overrides it, e.g. 1h for the README's figures) of steady load with cancelling and vanishing
 * clients must pass; and the verdict itself fails on each kind of growth it is meant to catch.
 */
class SoakTest {
    @Test
    void fiveMinutesOfLoadWithCancelsAndDisconnectsLeaveNoGrowth() throws Exception {
        Duration duration = LoadTool.SoakCommand.parseDuration(System.getenv().getOrDefault("NURI_SOAK_DURATION", "5m"));
        try (LanguageModel model = LanguageModel.load(RealServerTest.DEMO); Tokenizer tokenizer = Tokenizer.load(RealServerTest.DEMO)) {
            NuriMetrics metrics = new NuriMetrics();
            Engine[] e = new Engine[1];
            ModelMetrics mm = metrics.forModel(model.id(), () -> e[0].runningCount(), () -> e[0].waitingCount(),
                    () -> e[0].kvCacheUsage(), () -> e[0].stateUsage());
            e[0] = new Engine(model, tokenizer, new EngineConfig(16, 512, 512, 16, 64, 512), mm);
            mm.watchLiveArrays(model::liveArrayCount);
            NuriServer server = new NuriServer(new ServerConfig("127.0.0.1", 0, List.of(), 1 << 20, 0, List.of(),
                    Duration.ofSeconds(5), Duration.ZERO), new ModelRegistry(List.of(new ServedModel(model.id(), e[0], mm, 1L))),
                    metrics);
            int port = server.start().await();
            try {
                StreamClient client = new StreamClient(new StreamClient.Target(URI.create("http://127.0.0.1:" + port + "/v1"),
                        "chat", "nuri-ko-mini", null, false, Duration.ofSeconds(120)));
                List<Dataset.Prompt> prompts = Dataset.load(Dataset.BUNDLED, 200, 5, null, null, false);
                Duration interval = duration.compareTo(Duration.ofMinutes(10)) <= 0 ? Duration.ofSeconds(30) : Duration.ofMinutes(1);
                Soak.Settings settings = new Soak.Settings(duration, 6, 0.15, 0.10, interval,
                        URI.create("http://127.0.0.1:" + port + "/metrics"), 11, 0.10);
                System.out.println(Soak.header());
                Soak.Result result = new Soak(client, prompts, settings).run(s -> System.out.println(Soak.row(s)));
                System.out.printf("idle before: %.0f arrays, %.0f MiB; after: %.0f arrays, %.0f MiB, KV %.1f%%%n",
                        result.before().liveArrays(), result.before().rssBytes() / (1 << 20), result.after().liveArrays(),
                        result.after().rssBytes() / (1 << 20), 100 * result.after().kvUsage());
                assertTrue(result.passed(), result.failures().toString());
                assertTrue(result.samples().stream().mapToInt(Soak.Sample::cancelled).sum() > 0, "some clients cancelled");
                assertTrue(result.samples().stream().mapToInt(Soak.Sample::disconnected).sum() > 0, "some vanished");
                assertFalse(Double.isNaN(result.after().liveArrays()), "the server exports nuri_live_ndarrays");
            } finally {
                server.close();
                e[0].close();
            }
        }
    }

    @Test
    void theVerdictCatchesErrorsLeaksAndGrowth() {
        Soak soak = new Soak(null, List.of(), new Soak.Settings(Duration.ofMinutes(1), 1, 0, 0, Duration.ofSeconds(1),
                URI.create("http://x/metrics"), 1, 0.10));
        Soak.Sample idle = sample(1000e6, 300, 0, 0, Map.of());
        List<Soak.Sample> steady = List.of(sample(1000e6, 300, 0.2, 10, Map.of()), sample(1050e6, 300, 0.3, 10, Map.of()),
                sample(1020e6, 300, 0.2, 10, Map.of()), sample(1060e6, 300, 0.1, 10, Map.of()));
        assertEquals(List.of(), soak.judge(idle, steady, idle));
        assertEquals(1, soak.judge(idle, steady, sample(1000e6, 301, 0, 0, Map.of())).size(), "one NDArray leaked");
        assertEquals(1, soak.judge(idle, steady, sample(1000e6, 300, 0.05, 0, Map.of())).size(), "KV blocks left in use");
        List<Soak.Sample> growing = List.of(sample(1000e6, 300, 0.2, 10, Map.of()), sample(1050e6, 300, 0.3, 10, Map.of()),
                sample(1200e6, 300, 0.2, 10, Map.of()), sample(1300e6, 300, 0.1, 10, Map.of()));
        assertTrue(soak.judge(idle, growing, idle).get(0).contains("resident memory grew"));
        List<Soak.Sample> failing = List.of(sample(1000e6, 300, 0.2, 10, Map.of("http_500", 2)), sample(1000e6, 300, 0.2, 10, Map.of()));
        assertTrue(soak.judge(idle, failing, idle).get(0).contains("http_500=2"));
    }

    @Test
    void scrapedGaugesAreSummedOverTheirSeries() {
        String exposition = "# HELP x\nprocess_resident_memory_bytes 1.5E9\njvm_memory_used_bytes{area=\"heap\",id=\"eden\"} 100.0\n"
                + "jvm_memory_used_bytes{area=\"heap\",id=\"old\"} 50.0\njvm_memory_used_bytes{area=\"nonheap\",id=\"meta\"} 7.0\n";
        assertEquals(1.5e9, Soak.sum(exposition, "process_resident_memory_bytes", null));
        assertEquals(150.0, Soak.sum(exposition, "jvm_memory_used_bytes", "area=\"heap\""));
        assertTrue(Double.isNaN(Soak.sum(exposition, "nuri_live_ndarrays", null)));
    }

    private static Soak.Sample sample(double rss, double arrays, double kv, int completed, Map<String, Integer> errors) {
        return new Soak.Sample(0, rss, 100e6, arrays, kv, completed, 1, 1, errors);
    }
}
