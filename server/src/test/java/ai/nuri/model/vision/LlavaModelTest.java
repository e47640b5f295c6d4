package ai.nuri.model.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.nuri.media.ImageDecoder;
import ai.nuri.media.ImagePreprocessor;
import ai.nuri.model.Kernels;
import ai.nuri.model.ModelLoadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * LLaVA (image → preprocessing → vision tower → projector → image tokens' embeddings → decoder)
 * against float64 numpy computed from the same checkpoints ({@code src/test/resources/llava}):
 * {@code siglip-old} (older weight names, SigLIP, last hidden state, "full", projector biases) and
 * {@code clip-new} (newer names, CLIP with class token and pre-norm, hidden states [-3, -1]
 * side by side, "default", no projector biases, tied embeddings).
 */
class LlavaModelTest {
    static final Path LLAVA = Path.of("src/test/resources/llava");

    @ParameterizedTest
    @CsvSource({"siglip-old, image, image_features", "siglip-old, image_alpha, image_features_alpha",
        "clip-new, image, image_features", "clip-new, image_alpha, image_features_alpha"})
    void imageFeaturesAndLogitsMatchTheReference(String name, String imageField, String featureField) throws IOException {
        Path folder = LLAVA.resolve(name);
        JsonNode golden = new ObjectMapper().readTree(folder.resolve("golden.json").toFile());
        try (NDManager m = NDManager.newBaseManager(); LlavaModel model = LlavaModel.load(folder, m, DataType.FLOAT32)) {
            byte[] bytes = Files.readAllBytes(LLAVA.resolve(golden.get(imageField).asText()));
            ImagePreprocessor.Pixels px = ImagePreprocessor.read(folder.resolve("preprocessor_config.json"))
                    .apply(new ImageDecoder(1 << 20).decode(bytes));
            NDArray pixels = m.create(px.chw(), new Shape(1, 3, px.height(), px.width()));
            NDArray features = model.imageFeatures(pixels);
            assertEquals(new Shape(1, model.config().imageTokens(), model.config().text().hiddenSize()), features.getShape());
            assertEquals(golden.get("num_image_tokens").asInt(), model.config().imageTokens());
            assertClose(golden.get(featureField), features.toFloatArray(), 1e-4, name + " features");
            if (!imageField.equals("image")) {
                return;
            }
            int[] ids = new int[golden.get("input_ids").size()];
            long[] positions = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = golden.get("input_ids").get(i).asInt();
                positions[i] = i;
            }
            NDArray embedded = model.embedWithImages(ids, features.reshape(model.config().imageTokens(), -1));
            NDArray hidden = model.text().hiddenStatesFromEmbeddings(embedded, m.create(positions),
                    Kernels.dense(m, 1, ids.length));
            assertClose(golden.get("logits"), model.text().logits(hidden).toFloatArray(), 1e-3, name + " logits");
        }
    }

    /** The serving path: features encoded once, prefill in chunks that split the image's tokens, then decode. */
    @ParameterizedTest
    @CsvSource({"siglip-old", "clip-new"})
    void servingForwardPutsImageRowsAcrossChunkBoundaries(String name) throws IOException {
        Path folder = LLAVA.resolve(name);
        JsonNode golden = new ObjectMapper().readTree(folder.resolve("golden.json").toFile());
        try (ai.nuri.model.LanguageModel lm = ai.nuri.model.LanguageModel.load(folder);
                ai.nuri.model.kv.PagedKvCache cache = lm.newKvCache(16, 4)) {
            assertTrue(lm.acceptsImages());
            byte[] bytes = Files.readAllBytes(LLAVA.resolve(golden.get("image").asText()));
            ImagePreprocessor.Pixels px = ImagePreprocessor.read(folder.resolve("preprocessor_config.json"))
                    .apply(new ImageDecoder(1 << 20).decode(bytes));
            float[] features = lm.encodeImages(java.util.List.of(px.chw()), px.height(), px.width())[0];
            assertEquals(lm.imageTokensPerImage() * lm.config().hiddenSize(), features.length);
            int[] ids = new int[golden.get("input_ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = golden.get("input_ids").get(i).asInt();
            }
            int baseline = lm.liveArrayCount();
            ai.nuri.model.kv.BlockTable table = cache.newBlockTable();
            assertTrue(table.reserve(ids.length, cache.allocator()));
            // Chunks [0, 9) and [9, 18): the first ends inside the image's 16 tokens (positions 4..19).
            int[][] chunks = {{0, 9}, {9, 18}};
            float[] logits = null;
            for (int[] c : chunks) {
                int before = 0;
                for (int i = 0; i < c[0]; i++) {
                    before += ids[i] == lm.imageTokenId() ? 1 : 0;
                }
                logits = lm.forward(java.util.List.of(new ai.nuri.model.kv.SequenceChunk(table, -1,
                        java.util.Arrays.copyOfRange(ids, c[0], c[1]), c[0],
                        new ai.nuri.model.kv.SequenceChunk.ImageRows(features, before))), cache)[0];
            }
            assertClose(golden.get("logits").get(17), logits, 1e-3, name + " after chunked prefill");
            for (int p = 18; p < ids.length; p++) { // 18 and 19 are still image tokens, one step each
                int before = 0;
                for (int i = 0; i < p; i++) {
                    before += ids[i] == lm.imageTokenId() ? 1 : 0;
                }
                logits = lm.forward(java.util.List.of(new ai.nuri.model.kv.SequenceChunk(table, -1, new int[] {ids[p]}, p,
                        new ai.nuri.model.kv.SequenceChunk.ImageRows(features, before))), cache)[0];
                assertClose(golden.get("logits").get(p), logits, 1e-3, name + " decode at " + p);
            }
            assertEquals(baseline, lm.liveArrayCount());
        }
    }

    @Test
    void aPromptWhoseImageTokensDoNotMatchTheFeaturesIsRefused() {
        try (NDManager m = NDManager.newBaseManager();
                LlavaModel model = LlavaModel.load(LLAVA.resolve("siglip-old"), m, DataType.FLOAT32)) {
            NDArray features = m.zeros(new Shape(16, 32));
            var e = assertThrows(IllegalArgumentException.class, () -> model.embedWithImages(new int[] {1, 63, 2}, features));
            assertTrue(e.getMessage().contains("1 image tokens for 16"), e.getMessage());
        }
    }

    @Test
    void unsupportedTowersAndStrategiesAreNamed(@TempDir Path dir) throws IOException {
        String config = Files.readString(LLAVA.resolve("siglip-old/config.json"));
        Files.copy(LLAVA.resolve("siglip-old/model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), config.replace("\"full\"", "\"default\""));
        try (NDManager m = NDManager.newBaseManager()) {
            var e = assertThrows(ModelLoadException.class, () -> LlavaModel.load(dir, m, DataType.FLOAT32));
            assertTrue(e.getMessage().contains("SigLIP tower has none"), e.getMessage());
            Files.writeString(dir.resolve("config.json"), config.replace("siglip_vision_model", "pixtral"));
            e = assertThrows(ModelLoadException.class, () -> LlavaModel.load(dir, m, DataType.FLOAT32));
            assertTrue(e.getMessage().contains("'pixtral'"), e.getMessage());
        }
    }

    /** Compares a nested JSON array of numbers, flattened, with {@code actual}. */
    static void assertClose(JsonNode expected, float[] actual, double tolerance, String what) {
        java.util.List<Double> flat = new java.util.ArrayList<>();
        flatten(expected, flat);
        assertEquals(flat.size(), actual.length, what + " size");
        for (int i = 0; i < actual.length; i++) {
            assertEquals(flat.get(i), actual[i], tolerance, what + " [" + i + "]");
        }
    }

    private static void flatten(JsonNode n, java.util.List<Double> out) {
        if (n.isArray()) {
            n.forEach(c -> flatten(c, out));
        } else {
            out.add(n.asDouble());
        }
    }
}
