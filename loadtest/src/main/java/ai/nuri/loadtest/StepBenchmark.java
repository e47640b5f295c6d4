package ai.nuri.loadtest;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.nuri.model.Linears;
import ai.nuri.model.VectorLinears;
import ai.djl.pytorch.jni.JniUtils;
import ai.nuri.engine.Sampler;
import ai.nuri.engine.SamplingParams;
import ai.nuri.model.LanguageModel;
import ai.nuri.model.kv.BlockTable;
import ai.nuri.model.kv.PagedKvCache;
import ai.nuri.model.kv.RecurrentStatePool;
import ai.nuri.model.kv.SequenceChunk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The decode step of a model folder measured against this machine's own limits, in one run. For
 * each batch size, greedy and with top-p 0.9: the step (forward pass plus sampling every row, as
 * the engine does, rows in parallel) and its share spent sampling; the same batch's matrix multiplications alone
 * (every linear layer of the model and the LM head at the model's exact shapes), through libtorch
 * and as the step does them (Nuri's CPU kernel up to the rows the model chose at load); the bandwidth limit (the model's weights streamed once per step at the read bandwidth
 * measured here); JNI calls per step (counted in a separate pass, by native method); and the peak
 * resident memory a step adds.
 *
 * <p>Sequences start at {@code --context} tokens of history. The KV cache holds zeros rather than a
 * prefilled prompt: what a decode step costs does not depend on the values it reads.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -XX:+EnableDynamicAgentLoading -cp "loadtest/target/nuri-loadtest.jar:server/target/nuri-server.jar" \
 *     ai.nuri.loadtest.StepBenchmark /tmp/bench-llama [--batches 1,8,32,64,128] [--context 128] [--steps 8]
 *     [--profile folder]</pre>
 *
 * <p>{@code --profile}: one more greedy step per batch size under libtorch's profiler, written as a
 * Chrome trace ({@code chrome://tracing}, or summed by op name with any JSON tool).
 */
public final class StepBenchmark {
    private static final int BLOCK = 16;

    public static void main(String[] args) throws Exception {
        JniCounter.install(); // before any DJL PyTorch class loads
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
        Path folder = Path.of(args[0]);
        int[] batches = {1, 8, 32, 64, 128};
        int context = 128;
        int steps = 8;
        Path profile = null; // a folder: one step per batch size under libtorch's profiler, a Chrome trace each
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--batches" -> batches = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--context" -> context = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--profile" -> profile = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        try (LanguageModel model = LanguageModel.load(folder)) {
            long weightBytes = model.decoder().parameterCount() * model.decoder().dtype().getNumOfBytes();
            double bandwidth = readBandwidth(model);
            System.out.printf("model=%s params=%,d layers=%d vocab=%d weights=%.1f MB read_bandwidth=%.2f GB/s "
                            + "context=%d steps=%d threads=%d cpu_kernel_rows=%d%n",
                    folder.getFileName(), model.decoder().parameterCount(), model.config().numLayers(),
                    model.config().vocabSize(), weightBytes / 1e6, bandwidth / 1e9, context, steps,
                    Runtime.getRuntime().availableProcessors(), model.cpuKernelRows());
            System.out.println("| batch | sampling | step ms | sampling ms | sampling share | tokens/s | libtorch matmuls alone ms "
                    + "| step's matmuls alone ms | step / step's matmuls | bandwidth-limit tokens/s | of bandwidth limit "
                    + "| JNI calls / step | step peak RSS MB |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (int b : batches) {
                double torchMs = matmulsAloneMs(model, b, Linears.TORCH);
                double matmulMs = b <= model.cpuKernelRows() ? matmulsAloneMs(model, b, new VectorLinears(b)) : torchMs;
                double limit = b / (weightBytes / bandwidth);
                for (boolean topP : new boolean[] {false, true}) {
                    Step s = decodeSteps(model, b, context, steps, topP,
                            profile == null || topP ? null : profile.resolve("step-batch" + b + ".json"));
                    double tokensPerSecond = b / (s.stepMs / 1000);
                    System.out.printf("| %d | %s | %.1f | %.2f | %.1f%% | %.1f | %.1f | %.1f | %.2f | %.1f | %.0f%% | %d | %.1f |%n",
                            b, topP ? "top-p 0.9" : "greedy", s.stepMs, s.samplingMs, 100 * s.samplingMs / s.stepMs,
                            tokensPerSecond, torchMs, matmulMs, s.stepMs / matmulMs, limit, 100 * tokensPerSecond / limit,
                            s.jniCalls, s.peakRssBytes / 1e6);
                    if (b == batches[0] && !topP) {
                        System.out.println("JNI calls by native method, one step: " + s.jniByMethod);
                    }
                }
            }
        }
    }

    private record Step(double stepMs, double samplingMs, long jniCalls, Map<String, Long> jniByMethod, long peakRssBytes) {}

    /** Median over {@code steps} timed decode steps after two warm-up steps. */
    private static Step decodeSteps(LanguageModel model, int batch, int context, int steps, boolean topP, Path trace)
            throws IOException {
        int total = context + steps + 4;
        int blocksPerSequence = (total + BLOCK - 1) / BLOCK;
        SamplingParams params = topP
                ? new SamplingParams(1.0, 0.9, 0, 0, 1, 0, 0, 1L, 1, List.of(), List.of(), true)
                : SamplingParams.greedy(1);
        SplittableRandom random = new SplittableRandom(1);
        int vocab = model.config().vocabSize();
        try (PagedKvCache cache = model.newKvCache(batch * blocksPerSequence, BLOCK)) {
            RecurrentStatePool states = model.newStatePool(batch);
            try {
                List<BlockTable> tables = new ArrayList<>();
                int[] last = new int[batch];
                SplittableRandom[] randoms = new SplittableRandom[batch];
                for (int i = 0; i < batch; i++) {
                    BlockTable t = cache.newBlockTable();
                    t.reserve(total, cache.allocator());
                    tables.add(t);
                    last[i] = random.nextInt(vocab);
                    randoms[i] = random.split();
                }
                double[] stepMs = new double[steps];
                double[] samplingMs = new double[steps];
                long jni = 0;
                Map<String, Long> byMethod = Map.of();
                long peak = 0;
                for (int s = -2; s <= steps; s++) {
                    List<SequenceChunk> chunks = new ArrayList<>(batch);
                    for (int i = 0; i < batch; i++) {
                        chunks.add(new SequenceChunk(tables.get(i), states == null ? -1 : i, new int[] {last[i]},
                                context + s + 2));
                    }
                    boolean counted = s == steps; // one extra step with the counter on, not timed
                    if (counted) {
                        JniCounter.start();
                    }
                    long rssBefore = s == 0 ? resetPeakRss() : 0;
                    long t0 = System.nanoTime();
                    float[][] logits = states == null ? model.forward(chunks, cache) : model.forward(chunks, cache, states);
                    long t1 = System.nanoTime();
                    // As the engine draws: rows in parallel on the common pool from 4 rows up, each its own random stream.
                    IntStream rows = IntStream.range(0, batch);
                    (batch >= 4 ? rows.parallel() : rows).forEach(i ->
                            last[i] = Sampler.sample(logits[i], params, new BitSet(), Map.of(), randoms[i]));
                    long t2 = System.nanoTime();
                    if (s == 0) {
                        peak = peakRss() - rssBefore;
                    }
                    if (counted) {
                        byMethod = JniCounter.stop();
                        jni = byMethod.values().stream().mapToLong(Long::longValue).sum();
                        if (trace != null) { // the counted step again, under the profiler, neither timed nor counted
                            Files.createDirectories(trace.getParent());
                            JniUtils.startProfile(false, false, false);
                            List<SequenceChunk> again = new ArrayList<>(batch);
                            for (int i = 0; i < batch; i++) {
                                again.add(new SequenceChunk(tables.get(i), states == null ? -1 : i, new int[] {last[i]},
                                        context + s + 3));
                            }
                            if (states == null) {
                                model.forward(again, cache);
                            } else {
                                model.forward(again, cache, states);
                            }
                            JniUtils.stopProfile(trace.toString());
                        }
                    } else if (s >= 0) {
                        stepMs[s] = (t2 - t0) / 1e6;
                        samplingMs[s] = (t2 - t1) / 1e6;
                    }
                }
                return new Step(median(stepMs), median(samplingMs), jni, byMethod, peak);
            } finally {
                if (states != null) {
                    states.close();
                }
            }
        }
    }

    /** Median time of all the model's linear layers and its LM head once, at {@code batch} rows, by {@code linears}. */
    private static double matmulsAloneMs(LanguageModel model, int batch, Linears linears) {
        List<NDArray> weights = new ArrayList<>();
        model.decoder().parameters().forEach((name, w) -> {
            if (w.getShape().dimension() == 2 && !name.contains("embed_tokens")) {
                weights.add(w);
            }
        });
        if (!model.decoder().parameters().containsKey("lm_head.weight")) {
            weights.add(model.decoder().parameters().get("model.embed_tokens.weight")); // tied LM head
        }
        NDManager manager = model.decoder().manager();
        try (NDManager inputs = manager.newSubManager()) {
            Map<Long, NDArray> byWidth = new LinkedHashMap<>();
            for (NDArray w : weights) {
                byWidth.computeIfAbsent(w.getShape().get(1), in -> inputs.randomNormal(new Shape(batch, in)));
            }
            double[] ms = new double[7];
            for (int r = -2; r < ms.length; r++) {
                long t0 = System.nanoTime();
                try (NDScope ignored = new NDScope()) {
                    for (NDArray w : weights) {
                        linears.apply(byWidth.get(w.getShape().get(1)), w);
                    }
                }
                if (r >= 0) {
                    ms[r] = (System.nanoTime() - t0) / 1e6;
                }
            }
            return median(ms);
        }
    }

    /** Bytes per second of reading every weight once (a sum over each, libtorch's threads), best of five. */
    private static double readBandwidth(LanguageModel model) {
        Map<String, NDArray> params = model.decoder().parameters();
        long bytes = params.values().stream().mapToLong(a -> a.getShape().size() * a.getDataType().getNumOfBytes()).sum();
        double best = Double.MAX_VALUE;
        for (int r = 0; r < 6; r++) {
            long t0 = System.nanoTime();
            try (NDScope ignored = new NDScope()) {
                for (NDArray w : params.values()) {
                    w.sum();
                }
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return bytes / best;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** Resets the kernel's peak-RSS mark for this process; returns the current RSS. */
    private static long resetPeakRss() throws IOException {
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        return status("VmRSS:");
    }

    private static long peakRss() throws IOException {
        return status("VmHWM:");
    }

    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]) * 1024;
            }
        }
        throw new IOException(field + " not in /proc/self/status");
    }
}
