package ai.nuri.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * The process's one Prometheus registry: JVM binders, the Prometheus client's process collector,
 * the Vert.x HTTP server meters (bound by the http package), {@code nuri_build_info} and one
 * {@link ModelMetrics} per served model.
 */
public final class NuriMetrics implements AutoCloseable {
    /** The version in the jar's manifest; "dev" when run from classes (tests, IDE). */
    public static final String VERSION = java.util.Objects.requireNonNullElse(
            NuriMetrics.class.getPackage().getImplementationVersion(), "dev");

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final PrometheusTextFormatWriter text = new PrometheusTextFormatWriter(false);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final io.micrometer.core.instrument.Counter rateLimited;

    public NuriMetrics() {
        // Two processor meters break Prometheus naming rules (promtool check metrics): an abbreviated
        // unit (process_cpu_time_ns_total) and a _count suffix on a gauge (system_cpu_count).
        // process_start_time_seconds comes from the Prometheus client's ProcessMetrics below.
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
                || id.getName().equals("system.cpu.count") || id.getName().equals("process.start.time")));
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        // process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds, process_max_fds:
        // the names every Prometheus dashboard and alert expects of a process.
        ProcessMetrics.builder().register(registry.getPrometheusRegistry());
        Gauge.builder("nuri.build.info", () -> 1).description("Nuri's version and runtime; always 1")
                .tag("version", VERSION).tag("java_version", System.getProperty("java.version"))
                .register(registry);
        // Answered 429 before any model is chosen: the model_name label is empty.
        rateLimited = ModelMetrics.rejectedCounter(registry, "", "rate_limited");
    }

    /** Counts one request answered 429 by the rate limiter. */
    public void rateLimited() {
        rateLimited.increment();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Meters for one model; the gauges read the engine's own counters when scraped. */
    public ModelMetrics forModel(String modelName, DoubleSupplier running, DoubleSupplier waiting,
            DoubleSupplier kvCacheUsage, DoubleSupplier stateUsage) {
        return new ModelMetrics(registry, modelName, running, waiting, kvCacheUsage, stateUsage);
    }

    /**
     * {@code nuri_model_info{model_name, ...} 1}: what a served model is and how it is run
     * (architecture, dtype, device, context, KV blocks, batch limits), for dashboards to join on.
     */
    public void describeModel(String modelName, Map<String, String> settings) {
        Gauge.Builder<?> info = Gauge.builder("nuri.model.info", () -> 1)
                .description("A served model and its key settings; always 1").tag("model_name", modelName);
        settings.forEach(info::tag);
        info.register(registry);
    }

    /**
     * The Prometheus text exposition, without the {@code *_max} gauges Micrometer adds to every
     * timer and summary: those are decaying maxima over a two-minute window, not maxima of the
     * series they are named after, and a histogram's buckets already answer "how slow".
     */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        try {
            text.write(out, registry.getPrometheusRegistry().scrape(name -> !name.endsWith("_max")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
