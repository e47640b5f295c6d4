package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.safetensors.SafetensorsWriter;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Saves a model as a Hugging Face folder: config.json and model.safetensors. */
public final class CheckpointWriter {
    private CheckpointWriter() {}

    /** Weight storage type of a saved checkpoint. */
    public enum Storage { F32, BF16 }

    public static void save(CausalLm model, Path folder, Storage storage) throws IOException {
        Files.createDirectories(folder);
        // Bare Infinity (as transformers writes time_step_limit), not the string "Infinity".
        ObjectMapper json = JsonMapper.builder().disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS).build();
        var config = model.config().toJson();
        config.put("torch_dtype", storage == Storage.BF16 ? "bfloat16" : "float32");
        json.writerWithDefaultPrettyPrinter().writeValue(folder.resolve("config.json").toFile(), config);
        SafetensorsWriter writer = new SafetensorsWriter();
        for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
            NDArray p = e.getValue();
            float[] values;
            try (NDArray f32 = p.toType(DataType.FLOAT32, true)) {
                values = f32.toFloatArray();
            }
            long[] shape = p.getShape().getShape();
            if (storage == Storage.BF16) {
                writer.addBf16(e.getKey(), shape, values);
            } else {
                writer.addFloats(e.getKey(), shape, values);
            }
        }
        writer.write(folder.resolve("model.safetensors"));
    }
}
