package ai.nuri.http;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.metrics.ModelMetrics;
import ai.nuri.metrics.NuriMetrics;
import ai.nuri.model.LanguageModel;
import ai.nuri.text.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A real server on a free loopback port, serving the bundled demo model. */
final class TestServer implements AutoCloseable {
    static final Path DEMO = Path.of(System.getProperty("nuri.modelStore", "../model-store")).resolve("nuri-ko-mini");

    final LanguageModel model;
    final Engine engine;
    final NuriMetrics metrics;
    final NuriServer server;
    final int port;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    TestServer(EngineConfig engineConfig, ServerConfig serverConfig) throws IOException {
        this(engineConfig, serverConfig, 0);
    }

    /** With {@code stepDelayMillis} > 0 every engine step takes that much longer: a slower machine. */
    TestServer(EngineConfig engineConfig, ServerConfig serverConfig, long stepDelayMillis) throws IOException {
        this(DEMO, engineConfig, serverConfig, stepDelayMillis);
    }

    /** Serving the model in {@code folder}. */
    TestServer(Path folder, EngineConfig engineConfig, ServerConfig serverConfig, long stepDelayMillis) throws IOException {
        this(folder, engineConfig, serverConfig,
                meters -> stepDelayMillis > 0 ? new SlowSteps(meters, stepDelayMillis) : meters);
    }

    /** With the engine's observer wrapped by {@code observer} (slower steps, injected faults). */
    TestServer(Path folder, EngineConfig engineConfig, ServerConfig serverConfig,
            java.util.function.UnaryOperator<ai.nuri.engine.EngineObserver> observer) throws IOException {
        model = LanguageModel.load(folder);
        Tokenizer tokenizer = Tokenizer.load(folder);
        metrics = new NuriMetrics();
        Engine[] e = new Engine[1];
        ModelMetrics mm = metrics.forModel(model.id(), () -> e[0].runningCount(), () -> e[0].waitingCount(),
                () -> e[0].kvCacheUsage(), () -> e[0].stateUsage());
        mm.watchLiveArrays(model::liveArrayCount);
        engine = e[0] = new Engine(model, tokenizer, engineConfig, observer.apply(mm));
        ImageInputs images = model.acceptsImages() ? ImageInputs.of(folder,
                new ai.nuri.media.ImageSource(List.of(), 20L << 20, Duration.ofSeconds(5)), 16_777_216L, 4) : null;
        server = new NuriServer(serverConfig,
                new ModelRegistry(List.of(new ServedModel(model.id(), engine, mm, 1L, images,
                ai.nuri.model.ModelCard.summary(folder)))), metrics);
        port = server.start().await();
    }

    TestServer() throws IOException {
        this(new EngineConfig(64, 512, 2048, 16, 256, 512), config(List.of(), 0));
    }

    static ServerConfig config(List<String> keys, int rpm) {
        return config(keys, rpm, Duration.ZERO);
    }

    static ServerConfig config(List<String> keys, int rpm, Duration requestTimeout) {
        return new ServerConfig("127.0.0.1", 0, keys, 1 << 20, rpm, List.of("http://example.test"), Duration.ofSeconds(20),
                requestTimeout);
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    HttpResponse<String> post(String path, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url(path))).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The value of one metric sample in the scrape, e.g. metric("nuri_num_requests_running"). */
    double metric(String name) throws IOException, InterruptedException {
        String scrape = get("/metrics").body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(2)) : Double.NaN;
    }

    static String chatBody(String question, String extra) {
        return "{\"model\":\"nuri-ko-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"" + question + "\"}]"
                + (extra.isEmpty() ? "" : "," + extra) + "}";
    }

    /** Forwards everything to the real meters and sleeps after each step. */
    static class SlowSteps implements ai.nuri.engine.EngineObserver {
        private final ai.nuri.engine.EngineObserver meters;
        private final long millis;

        SlowSteps(ai.nuri.engine.EngineObserver meters, long millis) {
            this.meters = meters;
            this.millis = millis;
        }

        @Override
        public void onStep(int batchSize, int scheduledTokens, double seconds) {
            meters.onStep(batchSize, scheduledTokens, seconds);
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void onQueued(double s) {
            meters.onQueued(s);
        }

        @Override
        public void onFirstToken(double ttft, double prefill) {
            meters.onFirstToken(ttft, prefill);
        }

        @Override
        public void onInterToken(double s) {
            meters.onInterToken(s);
        }

        @Override
        public void onFinished(ai.nuri.engine.FinishReason r, int p, int g, double e2e, double decode) {
            meters.onFinished(r, p, g, e2e, decode);
        }

        @Override
        public void onAborted(String reason) {
            meters.onAborted(reason);
        }

        @Override
        public void onRejected(ai.nuri.engine.EngineRejectedException.Reason reason) {
            meters.onRejected(reason);
        }

        @Override
        public void onPreemption() {
            meters.onPreemption();
        }

        @Override
        public void onImages(int images) {
            meters.onImages(images);
        }

        @Override
        public void onImagesEncoded(int images, double seconds) {
            meters.onImagesEncoded(images, seconds);
        }

        @Override
        public void onImageCacheLookup(int queried, int hits) {
            meters.onImageCacheLookup(queried, hits);
        }
    }

    @Override
    public void close() {
        server.close();
        engine.close();
        model.close();
        metrics.close();
    }
}
