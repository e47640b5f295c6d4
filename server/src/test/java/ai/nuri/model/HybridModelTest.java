package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.model.kv.BlockTable;
import ai.nuri.model.kv.PagedKvCache;
import ai.nuri.model.kv.RecurrentStatePool;
import ai.nuri.model.kv.SequenceChunk;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * NemotronH against logits computed independently in float64 numpy from the same checkpoints
 * ({@code src/test/resources/nemotron_h/make_golden.py}: plain per-token Mamba-2 recurrence,
 * per-token MoE routing, explicit causal attention). Two checkpoints cover the two layouts in the
 * wild: {@code legacy} as NVIDIA ships them ({@code backbone.*}, BF16, pattern string, legacy key
 * names, per-expert weights, {@code Infinity} in config.json) and {@code modern} as transformers
 * saves them ({@code model.*}, layer-type list, stacked experts, latent MoE, grouped top-k,
 * projection biases, both time-step clips, tied embeddings).
 */
class HybridModelTest {
    static final Path GOLDEN = Path.of("src/test/resources/nemotron_h");
    /** FP32 against float64 through six layers; logits reach 21. */
    private static final double TOLERANCE = 2e-3;

    record Golden(int[] tokens, double[][] logits) {
        static Golden read(Path folder) throws IOException {
            JsonNode root = new ObjectMapper().readTree(folder.resolve("golden.json").toFile());
            int[] tokens = new int[root.get("tokens").size()];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = root.get("tokens").get(i).asInt();
            }
            double[][] logits = new double[tokens.length][];
            for (int t = 0; t < tokens.length; t++) {
                JsonNode row = root.get("logits").get(t);
                logits[t] = new double[row.size()];
                for (int v = 0; v < row.size(); v++) {
                    logits[t][v] = row.get(v).asDouble();
                }
            }
            return new Golden(tokens, logits);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"legacy", "modern"})
    void fullSequenceMatchesTheNumpyReference(String name) throws IOException {
        Golden g = Golden.read(GOLDEN.resolve(name));
        try (LanguageModel lm = LanguageModel.load(GOLDEN.resolve(name))) {
            double[][] actual = DecoderModelTest.denseLogits(lm.decoder(), g.tokens());
            for (int t = 0; t < g.tokens().length; t++) {
                assertRowClose(g.logits()[t], actual[t], name + " position " + t);
            }
        }
    }

    /** Decode on torch ops, and fused in Java over the pool's memory (the CPU path): both against the reference. */
    @ParameterizedTest
    @CsvSource({"legacy, true", "legacy, false", "modern, true", "modern, false"})
    void chunkedPrefillAndDecodeCarryTheStateExactly(String name, boolean fusedDecode) throws IOException {
        Golden g = Golden.read(GOLDEN.resolve(name));
        int[] tokens = g.tokens();
        try (LanguageModel lm = LanguageModel.load(GOLDEN.resolve(name));
                PagedKvCache cache = lm.newKvCache(8, 4);
                RecurrentStatePool states = lm.newStatePool(2, fusedDecode)) {
            assertEquals(fusedDecode, states.ssmMemory(0) != null);
            int baseline = lm.liveArrayCount();
            BlockTable table = cache.newBlockTable();
            assertTrue(table.reserve(tokens.length, cache.allocator()));
            int slot = states.allocate();
            // Chunks of 5 and 3 (chunk sizes 4 and 3 in the configs: a scan over several chunks, with padding),
            // then one token at a time.
            lm.forward(List.of(new SequenceChunk(table, slot, Arrays.copyOfRange(tokens, 0, 5), 0)), cache, states);
            float[] logits = lm.forward(List.of(new SequenceChunk(table, slot, Arrays.copyOfRange(tokens, 5, 8), 5)),
                    cache, states)[0];
            assertRowClose(g.logits()[7], toDouble(logits), name + " after chunked prefill");
            for (int p = 8; p < tokens.length; p++) {
                logits = lm.forward(List.of(new SequenceChunk(table, slot, new int[] {tokens[p]}, p)), cache, states)[0];
                assertRowClose(g.logits()[p], toDouble(logits), name + " decode at " + p);
            }
            assertEquals(baseline, lm.liveArrayCount(), "a step frees everything it made");
        }
    }

    /** Several sequences in one step: decodes, a fresh prefill, a continued prefill and a one-token prompt. */
    @Test
    void mixedBatchEqualsEachSequenceAlone() throws IOException {
        mixedBatchEqualsEachSequenceAlone("0");
    }

    /** The same through Nuri's CPU matmul kernel in every projection (Mamba's in and out, attention, MLP, LM head). */
    @Test
    void mixedBatchThroughTheCpuKernelEqualsEachSequenceAlone() throws IOException {
        mixedBatchEqualsEachSequenceAlone("64");
    }

    private void mixedBatchEqualsEachSequenceAlone(String cpuKernelRows) throws IOException {
        Golden g = Golden.read(GOLDEN.resolve("modern"));
        int[] full = g.tokens();
        String before = System.setProperty(LinearsChoice.PROPERTY, cpuKernelRows);
        try (LanguageModel lm = LanguageModel.load(GOLDEN.resolve("modern"));
                PagedKvCache cache = lm.newKvCache(32, 4);
                RecurrentStatePool states = lm.newStatePool(5)) {
            // Sequence i is the golden prompt from offset i, so its logits are not the golden ones:
            // compare with each sequence run alone instead, which the tests above tie to the reference.
            int n = 4;
            List<int[]> seqs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                seqs.add(Arrays.copyOfRange(full, i, full.length));
            }
            double[][] alone = new double[n][];
            for (int i = 0; i < n; i++) {
                alone[i] = DecoderModelTest.denseLogits(lm.decoder(), seqs.get(i))[seqs.get(i).length - 1];
            }
            List<BlockTable> tables = new ArrayList<>();
            int[] slots = new int[n];
            for (int i = 0; i < n; i++) {
                BlockTable t = cache.newBlockTable();
                assertTrue(t.reserve(seqs.get(i).length, cache.allocator()));
                tables.add(t);
                slots[i] = states.allocate();
            }
            // Bring sequences 0 and 1 to their last token and sequence 2 part-way.
            int[] done = {seqs.get(0).length - 1, seqs.get(1).length - 1, 4, 0};
            for (int i = 0; i < 3; i++) {
                lm.forward(List.of(new SequenceChunk(tables.get(i), slots[i], Arrays.copyOf(seqs.get(i), done[i]), 0)),
                        cache, states);
            }
            List<SequenceChunk> mixed = List.of(
                    chunk(tables.get(2), slots[2], seqs.get(2), done[2], seqs.get(2).length),  // continued prefill
                    chunk(tables.get(0), slots[0], seqs.get(0), done[0], seqs.get(0).length),  // decode
                    chunk(tables.get(3), slots[3], seqs.get(3), 0, seqs.get(3).length),        // fresh prefill
                    chunk(tables.get(1), slots[1], seqs.get(1), done[1], seqs.get(1).length)); // decode
            float[][] out = lm.forward(mixed, cache, states);
            int[] order = {2, 0, 3, 1};
            for (int k = 0; k < order.length; k++) {
                assertRowClose(alone[order[k]], toDouble(out[k]), "sequence " + order[k] + " in a mixed batch");
            }
            // A one-token prompt reads the zero state even from a slot another sequence used before.
            int reused = slots[0];
            float[] one = lm.forward(List.of(new SequenceChunk(tables.get(0), reused, new int[] {full[3]}, 0)), cache,
                    states)[0];
            assertRowClose(DecoderModelTest.denseLogits(lm.decoder(), new int[] {full[3]})[0], toDouble(one),
                    "fresh one-token sequence in a used slot");
            assertEquals(Integer.parseInt(cpuKernelRows), lm.cpuKernelRows());
            if (lm.cpuLinears() != null) {
                // Per layer: Mamba's in and out, attention's q, k, v and o, the MLP's up and down; and the LM head.
                assertTrue(lm.cpuLinears().multiplied() >= 5 * 2, "the kernel, not libtorch, multiplied");
            }
        } finally {
            if (before == null) {
                System.clearProperty(LinearsChoice.PROPERTY);
            } else {
                System.setProperty(LinearsChoice.PROPERTY, before);
            }
        }
    }

    private static SequenceChunk chunk(BlockTable t, int slot, int[] tokens, int from, int to) {
        return new SequenceChunk(t, slot, Arrays.copyOfRange(tokens, from, to), from);
    }

    @Test
    void configReadsBothSpellingsAndInfinity() {
        ModelConfig legacy = ModelConfig.read(GOLDEN.resolve("legacy"));
        HybridConfig h = legacy.hybrid();
        assertEquals("ME*M-", h.pattern());
        assertEquals(2, h.groups(), "mamba_n_groups");
        assertEquals(4, h.convKernel(), "mamba_d_conv");
        assertEquals(4, h.chunkSize(), "mamba_chunk_size");
        assertEquals(Double.POSITIVE_INFINITY, h.timeStepLimitHigh());
        assertEquals(5, legacy.numLayers());
        ModelConfig modern = ModelConfig.read(GOLDEN.resolve("modern"));
        assertEquals("M*M-".length() + 2, modern.numLayers());
        assertEquals("ME*M-E", modern.hybrid().pattern());
        assertEquals(16, modern.hybrid().moe().latentSize());
    }

    @Test
    void writtenConfigRoundTripsThroughTheReader(@TempDir Path dir) throws IOException {
        ModelConfig modern = ModelConfig.read(GOLDEN.resolve("modern"));
        String json = new com.fasterxml.jackson.databind.json.JsonMapper.Builder(new com.fasterxml.jackson.databind.json.JsonMapper())
                .disable(com.fasterxml.jackson.core.json.JsonWriteFeature.WRITE_NAN_AS_STRINGS).build()
                .writeValueAsString(ModelConfig.read(GOLDEN.resolve("legacy")).toJson());
        assertTrue(json.contains("Infinity") && !json.contains("\"Infinity\""), json);
        Files.writeString(dir.resolve("config.json"), json);
        assertEquals(ModelConfig.read(GOLDEN.resolve("legacy")), ModelConfig.read(dir));
        Files.writeString(dir.resolve("config.json"), modern.toJson().toString());
        assertEquals(modern, ModelConfig.read(dir));
    }

    @Test
    void badPatternsAreRefusedByName(@TempDir Path dir) throws IOException {
        String base = Files.readString(GOLDEN.resolve("legacy/config.json"));
        Files.writeString(dir.resolve("config.json"), base.replace("\"ME*M-\"", "\"MX*M-\""));
        var e = assertThrows(ModelLoadException.class, () -> ModelConfig.read(dir));
        assertTrue(e.getMessage().contains("'X'"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), base.replace("\"num_hidden_layers\": 5", "\"num_hidden_layers\": 6"));
        e = assertThrows(ModelLoadException.class, () -> ModelConfig.read(dir));
        assertTrue(e.getMessage().contains("num_hidden_layers"), e.getMessage());
    }

    @Test
    void aMissingExpertIsNamed(@TempDir Path dir) throws IOException {
        Files.copy(GOLDEN.resolve("modern/config.json"), dir.resolve("config.json"));
        String config = Files.readString(dir.resolve("config.json")).replace("\"n_routed_experts\": 8", "\"n_routed_experts\": 16");
        Files.writeString(dir.resolve("config.json"), config);
        Files.copy(GOLDEN.resolve("modern/model.safetensors"), dir.resolve("model.safetensors"));
        var e = assertThrows(ModelLoadException.class, () -> LanguageModel.load(dir));
        assertTrue(e.getMessage().contains("experts.up_proj") && e.getMessage().contains("16"), e.getMessage());
    }

    static void assertRowClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int v = 0; v < expected.length; v++) {
            assertEquals(expected[v], actual[v], TOLERANCE, what + " token " + v);
        }
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
