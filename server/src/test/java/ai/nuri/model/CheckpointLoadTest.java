package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.safetensors.SafetensorsWriter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading Hugging Face folders: the good shapes (single, sharded, BF16, FP16) and every bad one. */
class CheckpointLoadTest {
    @TempDir
    static Path dir;

    static ModelConfig config = TestModels.nemotron();
    static Map<String, float[]> weights;
    static double[][] expectedLogits;
    static final int[] TOKENS = {3, 14, 15, 9, 26, 5};

    @BeforeAll
    static void makeReference() {
        try (DecoderModel model = TestModels.build(config, 123)) {
            weights = TestModels.weights(model);
            expectedLogits = DecoderModelTest.denseLogits(model, TOKENS);
        }
    }

    private static Path folder(String name, Map<String, float[]> tensors, boolean bf16) throws IOException {
        Path f = Files.createDirectories(dir.resolve(name));
        ObjectNode c = config.toJson();
        new ObjectMapper().writeValue(f.resolve("config.json").toFile(), c);
        SafetensorsWriter w = new SafetensorsWriter();
        for (Map.Entry<String, float[]> e : tensors.entrySet()) {
            long[] shape = shapeOf(e.getKey(), e.getValue().length);
            if (bf16) {
                w.addBf16(e.getKey(), shape, e.getValue());
            } else {
                w.addFloats(e.getKey(), shape, e.getValue());
            }
        }
        w.write(f.resolve("model.safetensors"));
        return f;
    }

    private static long[] shapeOf(String name, int size) {
        if (name.endsWith("layernorm.weight") || name.endsWith("layernorm.bias") || name.startsWith("model.norm")
                || name.endsWith("_proj.bias") || name.equals("extra.weight")) {
            return new long[] {size};
        }
        long rows = name.contains("embed_tokens") || name.startsWith("lm_head") ? config.vocabSize()
                : name.contains("q_proj") ? (long) config.numHeads() * config.headDim()
                : name.contains("k_proj") || name.contains("v_proj") ? (long) config.numKvHeads() * config.headDim()
                : name.contains("up_proj") ? config.intermediateSize() : config.hiddenSize();
        return new long[] {rows, size / rows};
    }

    private static double[][] logits(LanguageModel lm) {
        return DecoderModelTest.denseLogits(lm.decoder(), TOKENS);
    }

    @Test
    void loadsASingleFileCheckpointExactly() throws IOException {
        try (LanguageModel lm = LanguageModel.load(folder("single", weights, false))) {
            assertEquals("single", lm.id());
            double[][] got = logits(lm);
            for (int t = 0; t < TOKENS.length; t++) {
                for (int v = 0; v < config.vocabSize(); v++) {
                    assertEquals(expectedLogits[t][v], got[t][v], 1e-6);
                }
            }
        }
    }

    @Test
    void loadsShardsListedInTheIndex() throws IOException {
        Path f = Files.createDirectories(dir.resolve("sharded"));
        new ObjectMapper().writeValue(f.resolve("config.json").toFile(), config.toJson());
        SafetensorsWriter a = new SafetensorsWriter();
        SafetensorsWriter b = new SafetensorsWriter();
        ObjectNode index = new ObjectMapper().createObjectNode();
        ObjectNode map = index.putObject("weight_map");
        int i = 0;
        for (Map.Entry<String, float[]> e : weights.entrySet()) {
            boolean first = i++ % 2 == 0;
            (first ? a : b).addFloats(e.getKey(), shapeOf(e.getKey(), e.getValue().length), e.getValue());
            map.put(e.getKey(), first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        }
        a.write(f.resolve("model-00001-of-00002.safetensors"));
        b.write(f.resolve("model-00002-of-00002.safetensors"));
        new ObjectMapper().writeValue(f.resolve("model.safetensors.index.json").toFile(), index);
        try (LanguageModel lm = LanguageModel.load(f)) {
            assertEquals(expectedLogits[5][7], logits(lm)[5][7], 1e-6);
        }
        Files.delete(f.resolve("model-00002-of-00002.safetensors"));
        assertLoadFails(f, "model-00002-of-00002.safetensors: missing");
    }

    @Test
    void widensBf16AndServesFloat16() throws IOException {
        Path f = folder("bf16", weights, true);
        try (LanguageModel lm = LanguageModel.load(f)) {
            assertEquals(DataType.FLOAT32, lm.decoder().dtype());
            // BF16 keeps 8 bits of mantissa: logits move by a few hundredths at most on this model.
            assertEquals(expectedLogits[2][3], logits(lm)[2][3], 0.05);
        }
        try (LanguageModel lm = LanguageModel.load(folder("f16", weights, false), Device.cpu(), DataType.FLOAT16)) {
            assertEquals(DataType.FLOAT16, lm.decoder().parameters().get("lm_head.weight").getDataType());
            assertEquals(expectedLogits[4][1], logits(lm)[4][1], 0.05);
        }
    }

    private static void assertLoadFails(Path folder, String expected) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> LanguageModel.load(folder).close());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    private static Map<String, float[]> edited(Consumer<Map<String, float[]>> edit) {
        Map<String, float[]> copy = new LinkedHashMap<>(weights);
        edit.accept(copy);
        return copy;
    }

    @Test
    void badCheckpointsFailWithTheFileAndTheProblem() throws IOException {
        Path noConfig = Files.createDirectories(dir.resolve("noconfig"));
        assertLoadFails(noConfig, "config.json: missing");

        Path unknown = folder("unknown", weights, false);
        ObjectNode c = config.toJson();
        c.putArray("architectures").add("GPT2LMHeadModel");
        new ObjectMapper().writeValue(unknown.resolve("config.json").toFile(), c);
        assertLoadFails(unknown, "unknown architecture 'GPT2LMHeadModel'");

        Path noWeights = folder("noweights", weights, false);
        Files.delete(noWeights.resolve("model.safetensors"));
        assertLoadFails(noWeights, "no weights");

        assertLoadFails(folder("missing", edited(m -> m.remove("model.layers.1.mlp.up_proj.weight")), false),
                "missing tensor 'model.layers.1.mlp.up_proj.weight'");
        assertLoadFails(folder("extra", edited(m -> m.put("extra.weight", new float[] {1, 2})), false),
                "unexpected tensor(s) for this architecture: extra.weight");
        assertLoadFails(folder("shape", edited(m -> m.put("model.norm.weight", new float[config.hiddenSize() + 1])), false),
                "tensor 'model.norm.weight' has shape (33) but the config implies (32)");

        Path truncated = folder("truncated", weights, false);
        Path file = truncated.resolve("model.safetensors");
        try (var ch = Files.newByteChannel(file, StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(file) - 100);
        }
        assertLoadFails(truncated, "model.safetensors: truncated");

        Path badJson = folder("badjson", weights, false);
        Files.writeString(badJson.resolve("config.json"), "{\"architectures\": [\"NemotronForCausalLM\"], ");
        assertLoadFails(badJson, "config.json: not valid JSON");
    }
}
