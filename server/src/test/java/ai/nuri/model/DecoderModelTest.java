package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.nuri.model.kv.BlockTable;
import ai.nuri.model.kv.PagedKvCache;
import ai.nuri.model.kv.SequenceChunk;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The whole forward pass against the naive loop implementation, for both architectures, and the
 * paged serving path (chunked prefill, incremental decode, mixed batches) against the dense one.
 */
class DecoderModelTest {
    /** FP32 through a few layers: differences come from summation order only. */
    private static final double TOLERANCE = 2e-4;

    @Test
    void nemotronDenseForwardMatchesNaiveLoops() {
        denseForwardMatchesNaive(TestModels.nemotron(),
                TestModels.plainInverseFrequencies(TestModels.nemotron().rotaryDim(), 10000.0));
    }

    @Test
    void llamaDenseForwardMatchesNaiveLoops() {
        ModelConfig c = TestModels.llama();
        // llama3-scaled frequencies, computed by the reference itself from the config's numbers.
        var s = c.ropeScaling();
        denseForwardMatchesNaive(c, NaiveReference.llama3InverseFrequencies(c.rotaryDim(), c.ropeTheta(), s.factor(),
                s.lowFreqFactor(), s.highFreqFactor(), s.originalMaxPositionEmbeddings()));
    }

    private void denseForwardMatchesNaive(ModelConfig c, double[] invFreq) {
        int[] tokens = TestModels.randomTokens(11, c.vocabSize(), 3);
        try (DecoderModel model = TestModels.build(c, 42)) {
            double[][] expected = NaiveReference.logits(c, TestModels.weights(model), tokens, invFreq);
            float[] actual;
            try (NDScope ignored = new NDScope()) {
                NDManager m = model.manager();
                NDArray hidden = model.hiddenStates(m.create(toLong(tokens)), m.create(positions(0, tokens.length)),
                        new CausalAttention(m, 1, tokens.length));
                actual = model.logits(hidden).toFloatArray();
            }
            for (int t = 0; t < tokens.length; t++) {
                for (int v = 0; v < c.vocabSize(); v++) {
                    assertEquals(expected[t][v], actual[t * c.vocabSize() + v], TOLERANCE, "position " + t + " token " + v);
                }
            }
        }
    }

    @Test
    void pagedPrefillAndIncrementalDecodeEqualTheFullSequence() {
        for (ModelConfig c : List.of(TestModels.nemotron(), TestModels.llama())) {
            int[] tokens = TestModels.randomTokens(21, c.vocabSize(), 5);
            try (DecoderModel model = TestModels.build(c, 7)) {
                LanguageModel lm = new LanguageModel("t", null, model, null);
                double[][] full = denseLogits(model, tokens);
                try (PagedKvCache cache = lm.newKvCache(8, 4)) {
                    BlockTable table = cache.newBlockTable();
                    assertTrue(table.reserve(tokens.length, cache.allocator()));
                    // Prefill 9 tokens in chunks of 5 and 4, then decode the remaining 12 one at a time.
                    lm.forward(List.of(new SequenceChunk(table, Arrays.copyOfRange(tokens, 0, 5), 0)), cache);
                    float[] logits = lm.forward(List.of(new SequenceChunk(table, Arrays.copyOfRange(tokens, 5, 9), 5)), cache)[0];
                    assertClose(full[8], logits, c.architecture() + " after chunked prefill");
                    for (int p = 9; p < tokens.length; p++) {
                        logits = lm.forward(List.of(new SequenceChunk(table, new int[] {tokens[p]}, p)), cache)[0];
                        assertClose(full[p], logits, c.architecture() + " decode at " + p);
                    }
                    table.release(cache.allocator());
                    assertEquals(0, cache.allocator().usedBlocks());
                }
            }
        }
    }

    @Test
    void aMixedBatchGivesEachSequenceTheLogitsItGetsAlone() {
        ModelConfig c = TestModels.nemotron();
        int[][] seqs = {TestModels.randomTokens(13, c.vocabSize(), 1), TestModels.randomTokens(6, c.vocabSize(), 2),
                TestModels.randomTokens(17, c.vocabSize(), 3), TestModels.randomTokens(2, c.vocabSize(), 4)};
        try (DecoderModel model = TestModels.build(c, 9)) {
            LanguageModel lm = new LanguageModel("t", null, model, null);
            try (PagedKvCache cache = lm.newKvCache(64, 4)) {
                // Step 1: prefill every sequence but its last token, all in one batch.
                List<BlockTable> tables = tablesFor(cache, seqs);
                List<SequenceChunk> prefill = new ArrayList<>();
                for (int i = 0; i < seqs.length; i++) {
                    // Half of them ask for no logits (a prefill chunk short of its prompt's end): the LM head skips them.
                    prefill.add(new SequenceChunk(tables.get(i), -1, Arrays.copyOf(seqs[i], seqs[i].length - 1), 0, null,
                            i % 2 == 0));
                }
                float[][] prefilled = lm.forward(prefill, cache);
                for (int i = 0; i < prefill.size(); i++) {
                    if (i % 2 == 0) {
                        assertClose(denseLogits(model, seqs[i])[seqs[i].length - 2], prefilled[i], "prefill " + i);
                    } else {
                        assertEquals(null, prefilled[i], "no logits where none were wanted");
                    }
                }
                // Step 2: decode tokens and a fresh prefill in one batch, in scrambled order.
                BlockTable fresh = cache.newBlockTable();
                int[] freshTokens = TestModels.randomTokens(9, c.vocabSize(), 8);
                assertTrue(fresh.reserve(freshTokens.length, cache.allocator()));
                List<SequenceChunk> mixed = new ArrayList<>();
                mixed.add(new SequenceChunk(tables.get(2), new int[] {seqs[2][16]}, 16));
                mixed.add(new SequenceChunk(fresh, freshTokens, 0));
                mixed.add(new SequenceChunk(tables.get(0), new int[] {seqs[0][12]}, 12));
                mixed.add(new SequenceChunk(tables.get(3), new int[] {seqs[3][1]}, 1));
                mixed.add(new SequenceChunk(tables.get(1), new int[] {seqs[1][5]}, 5));
                float[][] out = lm.forward(mixed, cache);
                assertClose(denseLogits(model, seqs[2])[16], out[0], "seq 2");
                assertClose(denseLogits(model, freshTokens)[8], out[1], "fresh prefill");
                assertClose(denseLogits(model, seqs[0])[12], out[2], "seq 0");
                assertClose(denseLogits(model, seqs[3])[1], out[3], "seq 3");
                assertClose(denseLogits(model, seqs[1])[5], out[4], "seq 1");
            }
        }
    }

    @Test
    void decodeGroupsOfSimilarContextGiveEachSequenceItsOwnLogits() {
        ModelConfig c = TestModels.llama();
        int[][] seqs = {TestModels.randomTokens(30, c.vocabSize(), 1), TestModels.randomTokens(3, c.vocabSize(), 2),
                TestModels.randomTokens(27, c.vocabSize(), 3), TestModels.randomTokens(5, c.vocabSize(), 4),
                TestModels.randomTokens(12, c.vocabSize(), 5)};
        try (DecoderModel model = TestModels.build(c, 11)) {
            LanguageModel lm = new LanguageModel("t", null, model, null);
            try (PagedKvCache cache = lm.newKvCache(64, 4)) {
                List<BlockTable> tables = tablesFor(cache, seqs);
                List<SequenceChunk> prefill = new ArrayList<>();
                for (int i = 0; i < seqs.length; i++) {
                    prefill.add(new SequenceChunk(tables.get(i), Arrays.copyOf(seqs[i], seqs[i].length - 1), 0));
                }
                lm.forward(prefill, cache);
                BlockTable fresh = cache.newBlockTable();
                int[] freshTokens = TestModels.randomTokens(7, c.vocabSize(), 8);
                assertTrue(fresh.reserve(freshTokens.length, cache.allocator()));
                // Decodes of contexts 5, 30, 12, 27 and 3 with a prefill among them, in scrambled order; groups are
                // cheap here (4 keys), so the decodes split by length and their rows are gathered and put back.
                int[] order = {3, 0, 4, 2, 1};
                List<SequenceChunk> step = new ArrayList<>();
                for (int i : order) {
                    step.add(new SequenceChunk(tables.get(i), new int[] {seqs[i][seqs[i].length - 1]}, seqs[i].length - 1));
                    if (step.size() == 2) {
                        step.add(new SequenceChunk(fresh, freshTokens, 0));
                    }
                }
                float[][] out = forwardWithGroupCost(model, cache, step, 4);
                int row = 0;
                for (int k = 0; k < step.size(); k++) {
                    if (step.get(k).tokens().length > 1) {
                        assertClose(denseLogits(model, freshTokens)[freshTokens.length - 1], out[k], "fresh prefill");
                    } else {
                        int i = order[row++];
                        assertClose(denseLogits(model, seqs[i])[seqs[i].length - 1], out[k], "sequence " + i);
                    }
                }
            }
        }
    }

    /** A block table per sequence, each holding the whole sequence. */
    private static List<BlockTable> tablesFor(PagedKvCache cache, int[][] seqs) {
        List<BlockTable> tables = new ArrayList<>();
        for (int[] s : seqs) {
            BlockTable t = cache.newBlockTable();
            assertTrue(t.reserve(s.length, cache.allocator()));
            tables.add(t);
        }
        return tables;
    }

    /** LanguageModel.forward with an attention kernel whose decode groups cost {@code groupCost} keys. */
    private static float[][] forwardWithGroupCost(DecoderModel model, PagedKvCache cache, List<SequenceChunk> step,
            int groupCost) {
        try (NDScope ignored = new NDScope()) {
            NDManager m = model.manager();
            List<Long> tokens = new ArrayList<>();
            List<Long> positions = new ArrayList<>();
            long[] last = new long[step.size()];
            for (int k = 0; k < step.size(); k++) {
                SequenceChunk chunk = step.get(k);
                for (int j = 0; j < chunk.tokens().length; j++) {
                    tokens.add((long) chunk.tokens()[j]);
                    positions.add((long) chunk.start() + j);
                }
                last[k] = tokens.size() - 1;
            }
            Kernels kernels = new Kernels(new ai.nuri.model.kv.PagedAttention(m, cache, step, groupCost),
                    RecurrentKernel.NONE, true);
            NDArray hidden = model.hiddenStatesFromEmbeddings(
                    model.embed(m.create(tokens.stream().mapToLong(Long::longValue).toArray())),
                    m.create(positions.stream().mapToLong(Long::longValue).toArray()), kernels);
            float[] flat = model.logits(Rows.take(hidden, m.create(last))).toFloatArray();
            int v = model.config().vocabSize();
            float[][] out = new float[step.size()][];
            for (int k = 0; k < out.length; k++) {
                out[k] = Arrays.copyOfRange(flat, k * v, (k + 1) * v);
            }
            return out;
        }
    }

    static double[][] denseLogits(CausalLm model, int[] tokens) {
        int v = model.config().vocabSize();
        try (NDScope ignored = new NDScope()) {
            NDManager m = model.manager();
            float[] flat = model.logits(model.hiddenStates(m.create(toLong(tokens)), m.create(positions(0, tokens.length)),
                    Kernels.dense(m, 1, tokens.length))).toFloatArray();
            double[][] out = new double[tokens.length][v];
            for (int t = 0; t < tokens.length; t++) {
                for (int i = 0; i < v; i++) {
                    out[t][i] = flat[t * v + i];
                }
            }
            return out;
        }
    }

    static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4, what + " token " + i);
        }
    }

    static long[] toLong(int[] a) {
        return Arrays.stream(a).asLongStream().toArray();
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    static long[] positions(int start, int n) {
        long[] p = new long[n];
        for (int i = 0; i < n; i++) {
            p[i] = start + i;
        }
        return p;
    }
}
