package ai.nuri.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code generation_config.json}: the stop token ids and the model author's sampling defaults.
 * Absent fields are null; an absent file gives the config's eos ids and no defaults.
 */
public record GenerationConfig(List<Integer> eosTokenIds, Double temperature, Double topP, Integer topK,
        Double repetitionPenalty, Integer maxNewTokens, Boolean doSample) {

    public static GenerationConfig read(Path folder, ModelConfig config) {
        Path file = folder.resolve("generation_config.json");
        if (!Files.isRegularFile(file)) {
            return new GenerationConfig(config.eosTokenIds(), null, null, null, null, null, null);
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelLoadException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        List<Integer> eos = ModelConfig.tokenIds(root.path("eos_token_id"));
        return new GenerationConfig(List.copyOf(eos.isEmpty() ? config.eosTokenIds() : eos),
                root.hasNonNull("temperature") ? root.get("temperature").asDouble() : null,
                root.hasNonNull("top_p") ? root.get("top_p").asDouble() : null,
                root.hasNonNull("top_k") ? root.get("top_k").asInt() : null,
                root.hasNonNull("repetition_penalty") ? root.get("repetition_penalty").asDouble() : null,
                root.hasNonNull("max_new_tokens") ? root.get("max_new_tokens").asInt() : null,
                root.hasNonNull("do_sample") ? root.get("do_sample").asBoolean() : null);
    }
}
