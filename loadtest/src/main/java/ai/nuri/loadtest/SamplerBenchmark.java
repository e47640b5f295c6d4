package ai.nuri.loadtest;

import ai.nuri.engine.Sampler;
import ai.nuri.engine.SamplingParams;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What sampling one row of logits costs, per mode and vocabulary size, on the engine thread:
 * the median over many rows of logits shaped like a language model's (a Gaussian body, a few
 * confident candidates; or flat, as an untrained model's), and what a batch of 64 rows adds to a
 * step on one thread.
 *
 * <pre>java -cp "loadtest/target/nuri-loadtest.jar:server/target/nuri-server.jar" ai.nuri.loadtest.SamplerBenchmark</pre>
 */
public final class SamplerBenchmark {
    public static void main(String[] args) {
        System.out.printf("%-28s %8s %12s %12s%n", "mode", "vocab", "median_us", "batch64_ms");
        for (int vocab : new int[] {32_000, 128_000}) {
            for (Mode m : List.of(new Mode("greedy", 0, 1, 0, 0), new Mode("temperature 1", 1, 1, 0, 0),
                    new Mode("top-k 50", 1, 1, 50, 0), new Mode("top-p 0.9", 1, 0.9, 0, 0), new Mode("top-p 0.95 top-k 50", 0.7, 0.95, 50, 0),
                    new Mode("min-p 0.05", 1, 1, 0, 0.05), new Mode("top-p 0.9, flat row", 1, 0.9, 0, 0, true),
                    new Mode("top-p 0.5, flat row", 1, 0.5, 0, 0, true))) {
                double median = medianMicros(vocab, m);
                System.out.printf("%-28s %8d %12.1f %12.2f%n", m.name, vocab, median, median * 64 / 1000);
            }
        }
    }

    /** {@code flat}: logits as an untrained model gives them (Gaussian, σ 0.1), where top-p keeps most of the vocabulary. */
    record Mode(String name, double temperature, double topP, int topK, double minP, boolean flat) {
        Mode(String name, double temperature, double topP, int topK, double minP) {
            this(name, temperature, topP, topK, minP, false);
        }
    }

    static double medianMicros(int vocab, Mode m) {
        SplittableRandom random = new SplittableRandom(1);
        SamplingParams p = new SamplingParams(m.temperature(), m.topP(), m.topK(), m.minP(), 1, 0, 0, null, 16, List.of(),
                List.of(), false);
        float[][] rows = new float[16][vocab];
        for (float[] row : rows) {
            for (int i = 0; i < vocab; i++) {
                row[i] = (float) (random.nextGaussian() * (m.flat() ? 0.1 : 2.5));
            }
            for (int peak = 0; peak < (m.flat() ? 0 : 5); peak++) {
                row[random.nextInt(vocab)] = 12 + peak; // the few tokens a trained model is sure of
            }
        }
        int runs = 400;
        double[] micros = new double[runs];
        float[] scratch = new float[vocab];
        for (int r = -1000; r < runs; r++) { // the first thousand warm the JIT up
            System.arraycopy(rows[Math.floorMod(r, rows.length)], 0, scratch, 0, vocab);
            long t0 = System.nanoTime();
            Sampler.sample(scratch, p, new BitSet(), Map.of(), random);
            long t1 = System.nanoTime();
            if (r >= 0) {
                micros[r] = (t1 - t0) / 1e3;
            }
        }
        java.util.Arrays.sort(micros);
        return micros[runs / 2];
    }
}
