package ai.nuri.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses, once per loaded model, up to how many rows a serving step multiplies with
 * {@link VectorLinears} rather than libtorch: by timing both on this machine, on the model's own
 * first-layer weights, at 1, 2, 4, ... 64 rows. The kernel keeps the rows up to the largest size
 * at which it was faster; the search stops at the second size in a row at which it was not (one
 * size alone can lose to noise on a busy machine). Only for an FP32 model on the CPU, in a JVM that has
 * the Vector API. {@value #PROPERTY} (a number of rows, 0 for none) replaces the measurement.
 */
final class LinearsChoice {
    static final String PROPERTY = "nuri.cpu-kernel-rows";
    private static final Logger LOG = LoggerFactory.getLogger(LinearsChoice.class);
    private static final int[] ROWS = {1, 2, 4, 8, 16, 32, 64};
    private static final int REPEATS = 5;
    /** The longest warm-up: a few seconds on a model of billions of parameters. */
    private static final long WARM_UP_NANOS = 4_000_000_000L;

    private LinearsChoice() {}

    /** The kernel for {@code model}'s small steps, or null where libtorch takes every step. */
    static VectorLinears choose(String id, CausalLm model) {
        if (!model.manager().getDevice().equals(Device.cpu()) || model.dtype() != DataType.FLOAT32
                || !Linears.vectorKernelAvailable()) {
            return null;
        }
        String fixed = System.getProperty(PROPERTY);
        int rows = fixed != null ? Integer.parseInt(fixed.strip()) : measure(model);
        if (fixed == null && rows > 0) {
            LOG.info("{}: steps of up to {} rows multiply with Nuri's CPU kernel, larger ones with libtorch "
                    + "(measured at load; -D{}=N fixes it)", id, rows, PROPERTY);
        } else if (fixed == null) {
            LOG.info("{}: libtorch multiplies every step (Nuri's CPU kernel measured no faster at load; -D{}=N fixes it)",
                    id, PROPERTY);
        }
        return rows > 0 ? new VectorLinears(rows) : null;
    }

    private static int measure(CausalLm model) {
        List<NDArray> weights = firstLayerWeights(model.parameters());
        if (weights.isEmpty()) {
            return 0;
        }
        VectorLinears kernel = new VectorLinears(ROWS[ROWS.length - 1]);
        int best = 0;
        int losses = 0; // in a row: one noisy size decides nothing alone
        try (NDManager scratch = model.manager().newSubManager()) {
            warmUp(kernel, weights, scratch);
            for (int rows : ROWS) {
                List<NDArray> inputs = weights.stream()
                        .map(w -> scratch.randomNormal(new Shape(rows, w.getShape().get(1)))).toList();
                // The kernel first, each time: right after libtorch, its OpenMP workers still spin on the cores.
                long own = fastest(kernel, inputs, weights, scratch);
                long torch = fastest(Linears.TORCH, inputs, weights, scratch);
                LOG.debug("{} rows: libtorch {} us, kernel {} us", rows, torch / 1000, own / 1000);
                if (own < torch) {
                    best = rows;
                    losses = 0;
                } else if (++losses == 2) {
                    break;
                }
            }
        }
        return best;
    }

    /**
     * Runs the kernel's paths (one row, a pair, a pair and one more) on the layer's own weights
     * until a round has not been faster for five rounds: the JIT compiles it in stages, and a
     * kernel timed too early measures several times slower than it serves.
     */
    private static void warmUp(VectorLinears kernel, List<NDArray> weights, NDManager scratch) {
        List<List<NDArray>> inputs = java.util.stream.IntStream.rangeClosed(1, 3)
                .mapToObj(rows -> weights.stream().map(w -> scratch.randomNormal(new Shape(rows, w.getShape().get(1)))).toList())
                .toList();
        long deadline = System.nanoTime() + WARM_UP_NANOS;
        long best = Long.MAX_VALUE;
        for (int stale = 0; stale < 5 && System.nanoTime() < deadline; ) {
            long t0 = System.nanoTime();
            for (List<NDArray> x : inputs) {
                run(kernel, x, weights, scratch);
            }
            long t = System.nanoTime() - t0;
            if (t < best - best / 32) {
                best = t;
                stale = 0;
            } else {
                stale++;
            }
        }
    }

    /** The best of {@value #REPEATS} rounds, after one more. */
    private static long fastest(Linears linears, List<NDArray> inputs, List<NDArray> weights, NDManager scratch) {
        long best = Long.MAX_VALUE;
        for (int r = 0; r <= REPEATS; r++) {
            long t0 = System.nanoTime();
            run(linears, inputs, weights, scratch);
            if (r > 0) {
                best = Math.min(best, System.nanoTime() - t0);
            }
        }
        return best;
    }

    private static void run(Linears linears, List<NDArray> inputs, List<NDArray> weights, NDManager scratch) {
        try (NDManager step = scratch.newSubManager()) {
            for (int i = 0; i < weights.size(); i++) {
                linears.apply(inputs.get(i), weights.get(i)).attach(step);
            }
        }
    }

    /** The matrices of layer 0: what every layer of a step multiplies by, at one layer's cost. */
    private static List<NDArray> firstLayerWeights(Map<String, NDArray> parameters) {
        return parameters.entrySet().stream()
                .filter(e -> e.getKey().contains(".layers.0.") && e.getKey().endsWith(".weight"))
                .map(Map.Entry::getValue)
                .filter(w -> w.getShape().dimension() == 2)
                .toList();
    }
}
