package ai.nuri.metrics;

import ai.nuri.engine.EngineObserver;
import ai.nuri.engine.EngineRejectedException;
import ai.nuri.engine.FinishReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * The meters of DESIGN.md for one model (label {@code model_name}), fed by its engine. Latency
 * buckets span what LLM serving sees: time to first token from 10 ms to 60 s, inter-token from
 * 1 ms to 5 s.
 */
public final class ModelMetrics implements EngineObserver {
    private static final double[] REQUEST_SECONDS = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
        1, 1.5, 2, 2.5, 5, 7.5, 10, 15, 20, 30, 45, 60};
    private static final double[] TOKEN_SECONDS = {0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05,
        0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5};
    private static final double[] E2E_SECONDS = {0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120,
        240, 480, 960, 1920};
    private static final double[] TOKEN_COUNTS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000,
        50000, 100000};
    private static final double[] BATCH_SIZES = {1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512};

    private final MeterRegistry registry;
    private final String model;
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final Timer e2eLatency;
    private final Timer queueTime;
    private final Timer prefillTime;
    private final Timer decodeTime;
    private final Timer stepTime;
    private final DistributionSummary promptTokensPerRequest;
    private final DistributionSummary generationTokensPerRequest;
    private final DistributionSummary batchSize;
    private final Counter promptTokens;
    private final Counter generationTokens;
    private final Counter preemptions;
    private final Counter prefixCacheQueries;
    private final Counter prefixCacheHits;
    private final Counter images;
    private final Counter mmCacheQueries;
    private final Counter mmCacheHits;
    private final Timer visionEncode;

    ModelMetrics(MeterRegistry registry, String model, DoubleSupplier running, DoubleSupplier waiting,
            DoubleSupplier kvCacheUsage, DoubleSupplier stateUsage) {
        this.registry = registry;
        this.model = model;
        timeToFirstToken = timer("nuri.time.to.first.token", "Time from arrival to the first generated token", REQUEST_SECONDS);
        interTokenLatency = timer("nuri.inter.token.latency", "Time between consecutive tokens of a request", TOKEN_SECONDS);
        e2eLatency = timer("nuri.e2e.request.latency", "Time from arrival to the last token", E2E_SECONDS);
        queueTime = timer("nuri.request.queue.time", "Time a request waited before its first batch", REQUEST_SECONDS);
        prefillTime = timer("nuri.request.prefill.time", "Time from first batch to first token", REQUEST_SECONDS);
        decodeTime = timer("nuri.request.decode.time", "Time from first token to last token", E2E_SECONDS);
        stepTime = timer("nuri.engine.step", "Duration of one engine step (one batched forward pass)", TOKEN_SECONDS);
        promptTokensPerRequest = summary("nuri.request.prompt.tokens", "Prompt tokens per request", TOKEN_COUNTS);
        generationTokensPerRequest = summary("nuri.request.generation.tokens", "Generated tokens per request", TOKEN_COUNTS);
        batchSize = summary("nuri.batch.size", "Sequences in one engine step", BATCH_SIZES);
        promptTokens = counter("nuri.prompt.tokens", "Prompt tokens processed");
        generationTokens = counter("nuri.generation.tokens", "Tokens generated");
        preemptions = counter("nuri.num.preemptions", "Sequences preempted when the KV cache ran out");
        prefixCacheQueries = counter("nuri.prefix.cache.queries", "Tokens looked up in the prefix cache at admission");
        prefixCacheHits = counter("nuri.prefix.cache.hits", "Tokens whose KV blocks came from the prefix cache");
        images = counter("nuri.images", "Images received in requests");
        mmCacheQueries = counter("nuri.mm.cache.queries", "Images looked up in the image-encoding cache");
        mmCacheHits = counter("nuri.mm.cache.hits", "Images whose encoding came from the cache");
        visionEncode = timer("nuri.vision.encode", "Time the vision tower took for one batch of images", REQUEST_SECONDS);
        // Every labelled series exists from the start at 0, so rates and ratios have data before
        // the first failure.
        for (FinishReason r : FinishReason.values()) {
            success(r);
        }
        for (String reason : List.of("cancelled", "engine_error", "aborted")) {
            failureCounter(reason);
        }
        for (EngineRejectedException.Reason r : EngineRejectedException.Reason.values()) {
            rejectedCounter(r);
        }
        Gauge.builder("nuri.num.requests.running", running::getAsDouble).description("Requests in the running batch")
                .tag("model_name", model).register(registry);
        Gauge.builder("nuri.num.requests.waiting", waiting::getAsDouble).description("Requests waiting for a batch")
                .tag("model_name", model).register(registry);
        Gauge.builder("nuri.kv.cache.usage.ratio", kvCacheUsage::getAsDouble).description("Fraction of KV cache blocks in use")
                .tag("model_name", model).register(registry);
        Gauge.builder("nuri.ssm.state.usage.ratio", stateUsage::getAsDouble)
                .description("Fraction of recurrent-state slots in use (hybrid Mamba models; 0 for others)")
                .tag("model_name", model).register(registry);
    }

    private Timer timer(String name, String help, double[] bucketsSeconds) {
        return Timer.builder(name).description(help).tag("model_name", model)
                .serviceLevelObjectives(Arrays.stream(bucketsSeconds).mapToObj(s -> Duration.ofNanos((long) (s * 1e9)))
                        .toArray(Duration[]::new))
                .register(registry);
    }

    private DistributionSummary summary(String name, String help, double[] buckets) {
        return DistributionSummary.builder(name).description(help).tag("model_name", model)
                .serviceLevelObjectives(buckets).register(registry);
    }

    private Counter counter(String name, String help) {
        return Counter.builder(name).description(help).tag("model_name", model).register(registry);
    }

    private Counter success(FinishReason reason) {
        return Counter.builder("nuri.request.success").description("Requests that finished")
                .tag("model_name", model).tag("finished_reason", reason.apiName()).register(registry);
    }

    /** Counts a request that failed for a reason the engine does not see (e.g. a bad prompt). */
    /**
     * {@code nuri_live_ndarrays}: arrays the model's NDManager holds (weights, KV and state pools, and
     * anything a step failed to free). Flat while serving; a soak fails if it grows.
     */
    public void watchLiveArrays(java.util.function.DoubleSupplier count) {
        Gauge.builder("nuri.live.ndarrays", count::getAsDouble)
                .description("NDArrays held by the model's NDManager: weights, pools, and any leak")
                .tag("model_name", model).register(registry);
    }

    public void failure(String reason) {
        failureCounter(reason).increment();
    }

    private Counter failureCounter(String reason) {
        return Counter.builder("nuri.request.failure").description("Requests that failed or were cancelled")
                .tag("model_name", model).tag("reason", reason).register(registry);
    }

    private Counter rejectedCounter(EngineRejectedException.Reason reason) {
        return rejectedCounter(registry, model, reason.name().toLowerCase(java.util.Locale.ROOT));
    }

    static Counter rejectedCounter(MeterRegistry registry, String model, String reason) {
        return Counter.builder("nuri.requests.rejected")
                .description("Requests turned away: 503 queue_full or draining, 429 rate_limited")
                .tag("model_name", model).tag("reason", reason).register(registry);
    }

    private static long nanos(double seconds) {
        return (long) (seconds * 1e9);
    }

    @Override
    public void onStep(int sequences, int scheduledTokens, double seconds) {
        stepTime.record(nanos(seconds), TimeUnit.NANOSECONDS);
        batchSize.record(sequences);
    }

    @Override
    public void onQueued(double seconds) {
        queueTime.record(nanos(seconds), TimeUnit.NANOSECONDS);
    }

    @Override
    public void onFirstToken(double ttft, double prefill) {
        timeToFirstToken.record(nanos(ttft), TimeUnit.NANOSECONDS);
        prefillTime.record(nanos(prefill), TimeUnit.NANOSECONDS);
    }

    @Override
    public void onInterToken(double seconds) {
        interTokenLatency.record(nanos(seconds), TimeUnit.NANOSECONDS);
    }

    @Override
    public void onFinished(FinishReason reason, int prompt, int generated, double e2e, double decode) {
        e2eLatency.record(nanos(e2e), TimeUnit.NANOSECONDS);
        decodeTime.record(nanos(decode), TimeUnit.NANOSECONDS);
        promptTokensPerRequest.record(prompt);
        generationTokensPerRequest.record(generated);
        promptTokens.increment(prompt);
        generationTokens.increment(generated);
        success(reason).increment();
    }

    @Override
    public void onAborted(String reason) {
        failure(reason.startsWith("engine error") ? "engine_error"
                : reason.equals("cancelled") ? "cancelled"
                : reason.equals(ai.nuri.engine.Engine.NUMERICAL_ERROR) ? "numerical_error"
                : reason.equals(ai.nuri.engine.Engine.SHUTDOWN) ? "shutdown"
                : reason.equals(ai.nuri.engine.Engine.SLOW_READER) ? "slow_reader"
                : "aborted");
    }

    @Override
    public void onRejected(EngineRejectedException.Reason reason) {
        rejectedCounter(reason).increment();
    }

    @Override
    public void onPreemption() {
        preemptions.increment();
    }

    @Override
    public void onPrefixCacheLookup(int queriedTokens, int hitTokens) {
        prefixCacheQueries.increment(queriedTokens);
        prefixCacheHits.increment(hitTokens);
    }

    @Override
    public void onImages(int count) {
        images.increment(count);
    }

    @Override
    public void onImagesEncoded(int count, double seconds) {
        visionEncode.record(Duration.ofNanos((long) (seconds * 1e9)));
    }

    @Override
    public void onImageCacheLookup(int queried, int hits) {
        mmCacheQueries.increment(queried);
        mmCacheHits.increment(hits);
    }
}
