package ai.nuri.metrics;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.DoubleSupplier;

/**
 * The process's one Prometheus registry: JVM binders, the Vert.x HTTP server meters (bound by
 * the http package) and one {@link ModelMetrics} per served model.
 */
public final class NuriMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();

    public NuriMetrics() {
        // Two processor meters break Prometheus naming rules (promtool check metrics): an abbreviated
        // unit (process_cpu_time_ns_total) and a _count suffix on a gauge (system_cpu_count).
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
                || id.getName().equals("system.cpu.count")));
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Meters for one model; the gauges read the engine's own counters when scraped. */
    public ModelMetrics forModel(String modelName, DoubleSupplier running, DoubleSupplier waiting,
            DoubleSupplier kvCacheUsage, DoubleSupplier stateUsage) {
        return new ModelMetrics(registry, modelName, running, waiting, kvCacheUsage, stateUsage);
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
