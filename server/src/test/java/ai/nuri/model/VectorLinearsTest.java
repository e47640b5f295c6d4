package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.nuri.model.kv.BlockTable;
import ai.nuri.model.kv.PagedKvCache;
import ai.nuri.model.kv.SequenceChunk;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Nuri's CPU matmul kernel against a naive double-precision dot product (not against libtorch,
 * not against itself), its row-for-row determinism, its fallbacks, and a whole serving step
 * through it against the dense libtorch forward pass.
 */
class VectorLinearsTest {
    private static NDManager manager;

    @BeforeAll
    static void open() {
        assertTrue(Linears.vectorKernelAvailable(), "the tests run with --add-modules jdk.incubator.vector");
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void everyOutputIsTheDotProductWithinFloatRounding() {
        // Shapes with tails on both sides: in not a multiple of any vector length, out not of four;
        // 1027 x 512 is large enough to be split across threads.
        int[][] shapes = {{13, 19}, {64, 48}, {300, 769}, {1027, 512}, {5, 8}};
        VectorLinears kernel = new VectorLinears(16);
        Random random = new Random(7);
        for (int[] shape : shapes) {
            int out = shape[0];
            int in = shape[1];
            float[] w = gaussian(random, out * in);
            NDArray weight = manager.create(w, new Shape(out, in));
            for (int rows : new int[] {1, 2, 3, 8, 16}) {
                float[] x = gaussian(random, rows * in);
                try (NDManager step = manager.newSubManager()) {
                    float[] y = kernel.apply(step.create(x, new Shape(rows, in)), weight).toFloatArray();
                    assertEquals(rows * out, y.length);
                    for (int b = 0; b < rows; b++) {
                        for (int o = 0; o < out; o++) {
                            double exact = 0;
                            double magnitude = 0;
                            for (int i = 0; i < in; i++) {
                                exact += (double) w[o * in + i] * x[b * in + i];
                                magnitude += Math.abs((double) w[o * in + i] * x[b * in + i]);
                            }
                            // FP32 accumulation of `in` terms: error at most about in * 2^-24 of their magnitude.
                            double bound = in * 0x1p-24 * magnitude + 1e-30;
                            assertEquals(exact, y[b * out + o], bound, out + "x" + in + " rows " + rows + " [" + b + "," + o + "]");
                        }
                    }
                }
            }
        }
    }

    @Test
    void aRowGetsTheSameBitsAloneAndAmongOthers() {
        int out = 1027;
        int in = 515;
        Random random = new Random(3);
        NDArray weight = manager.create(gaussian(random, out * in), new Shape(out, in));
        float[] batch = gaussian(random, 7 * in);
        VectorLinears kernel = new VectorLinears(8);
        try (NDManager step = manager.newSubManager()) {
            float[] together = kernel.apply(step.create(batch, new Shape(7, in)), weight).toFloatArray();
            for (int b = 0; b < 7; b++) {
                float[] alone = kernel.apply(step.create(Arrays.copyOfRange(batch, b * in, (b + 1) * in), new Shape(1, in)),
                        weight).toFloatArray();
                assertArrayEquals(Arrays.copyOfRange(together, b * out, (b + 1) * out), alone, "row " + b);
            }
        }
    }

    @Test
    void moreRowsThanItTakesAndViewsGoToLibtorch() {
        Random random = new Random(5);
        NDArray weight = matrix(manager, random, 40, 24);
        VectorLinears kernel = new VectorLinears(4);
        try (NDManager step = manager.newSubManager()) {
            NDArray many = matrix(step, random, 5, 24);
            assertArrayEquals(Linears.TORCH.apply(many, weight).toFloatArray(), kernel.apply(many, weight).toFloatArray());
            NDArray view = matrix(step, random, 24, 3).transpose(); // [3, 24], not contiguous
            assertArrayEquals(Linears.TORCH.apply(view, weight).toFloatArray(), kernel.apply(view, weight).toFloatArray());
        }
    }

    @Test
    void itLeavesNoArrayBehind() {
        Random random = new Random(9);
        NDArray weight = matrix(manager, random, 64, 32);
        VectorLinears kernel = new VectorLinears(8);
        try (NDManager step = manager.newSubManager()) {
            NDArray x = matrix(step, random, 3, 32);
            int before = step.getManagedArrays().size();
            for (int i = 0; i < 200; i++) {
                kernel.apply(x, weight).close();
            }
            assertEquals(before, step.getManagedArrays().size());
        }
    }

    @Test
    void trainingNeverTakesIt() {
        VectorLinears kernel = new VectorLinears(8);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Kernels(null, RecurrentKernel.NONE, false, kernel));
    }

    /** Every step of a serving model through the kernel: prefill and decode equal the dense libtorch pass. */
    @Test
    void servingStepsThroughTheKernelGiveTheDenseLogits() {
        servingStepsMatchDense(TestModels.llama(), DecoderModelTest::denseLogits);
        servingStepsMatchDense(TestModels.nemotron(), DecoderModelTest::denseLogits);
    }

    private interface Dense {
        double[][] logits(CausalLm model, int[] tokens);
    }

    private static void servingStepsMatchDense(ModelConfig c, Dense dense) {
        int[][] seqs = {TestModels.randomTokens(9, c.vocabSize(), 1), TestModels.randomTokens(4, c.vocabSize(), 2),
                TestModels.randomTokens(14, c.vocabSize(), 3)};
        String before = System.getProperty(LinearsChoice.PROPERTY);
        System.setProperty(LinearsChoice.PROPERTY, "64");
        try (DecoderModel model = TestModels.build(c, 21)) {
            LanguageModel lm = new LanguageModel("t", null, model, null);
            assertEquals(64, lm.cpuKernelRows());
            try (PagedKvCache cache = lm.newKvCache(64, 4)) {
                List<BlockTable> tables = new ArrayList<>();
                List<SequenceChunk> prefill = new ArrayList<>();
                for (int[] s : seqs) {
                    BlockTable t = cache.newBlockTable();
                    assertTrue(t.reserve(s.length, cache.allocator()));
                    tables.add(t);
                    prefill.add(new SequenceChunk(t, Arrays.copyOf(s, s.length - 1), 0));
                }
                int baseline = lm.liveArrayCount();
                float[][] prefilled = lm.forward(prefill, cache);
                List<SequenceChunk> decode = new ArrayList<>();
                for (int i = 0; i < seqs.length; i++) {
                    decode.add(new SequenceChunk(tables.get(i), new int[] {seqs[i][seqs[i].length - 1]}, seqs[i].length - 1));
                }
                float[][] decoded = lm.forward(decode, cache);
                for (int i = 0; i < seqs.length; i++) {
                    double[][] expected = dense.logits(model, seqs[i]);
                    DecoderModelTest.assertClose(expected[seqs[i].length - 2], prefilled[i], c.architecture() + " prefill " + i);
                    DecoderModelTest.assertClose(expected[seqs[i].length - 1], decoded[i], c.architecture() + " decode " + i);
                }
                assertEquals(baseline, lm.liveArrayCount(), "a step frees everything it made");
                // Two steps, each through every projection of every layer and the LM head (the embedding when tied).
                long matrices = model.parameters().entrySet().stream()
                        .filter(e -> e.getValue().getShape().dimension() == 2 && !e.getKey().contains("embed_tokens")).count();
                long projections = matrices + (c.tieWordEmbeddings() ? 1 : 0);
                assertEquals(2 * projections, lm.cpuLinears().multiplied(), "every projection by the kernel");
            }
        } finally {
            if (before == null) {
                System.clearProperty(LinearsChoice.PROPERTY);
            } else {
                System.setProperty(LinearsChoice.PROPERTY, before);
            }
        }
    }

    private static NDArray matrix(NDManager m, Random random, int rows, int columns) {
        return m.create(gaussian(random, rows * columns), new Shape(rows, columns));
    }

    private static float[] gaussian(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
