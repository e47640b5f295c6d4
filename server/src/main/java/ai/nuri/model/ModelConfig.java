package ai.nuri.model;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a Hugging Face {@code config.json} that the decoder needs, with the defaults
 * transformers applies when a field is absent. Nemotron and Llama name some fields differently
 * ({@code norm_eps} vs {@code rms_norm_eps}); both are read.
 */
public record ModelConfig(
        String architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int maxPositionEmbeddings,
        double ropeTheta,
        double partialRotaryFactor,
        RopeScaling ropeScaling,
        double normEps,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean mlpBias,
        String hiddenAct,
        int bosTokenId,
        List<Integer> eosTokenIds,
        HybridConfig hybrid) {

    /** NemotronH checkpoints as NVIDIA ships them write {@code Infinity} in config.json: not strict JSON. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    /** A plain transformer (every layer attention then MLP). */
    public ModelConfig(String architecture, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
            int numHeads, int numKvHeads, int headDim, int maxPositionEmbeddings, double ropeTheta,
            double partialRotaryFactor, RopeScaling ropeScaling, double normEps, boolean tieWordEmbeddings,
            boolean attentionBias, boolean mlpBias, String hiddenAct, int bosTokenId, List<Integer> eosTokenIds) {
        this(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositionEmbeddings, ropeTheta, partialRotaryFactor, ropeScaling, normEps, tieWordEmbeddings,
                attentionBias, mlpBias, hiddenAct, bosTokenId, eosTokenIds, null);
    }

    public ModelConfig {
        if (numHeads <= 0 || numKvHeads <= 0 || numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numHeads
                    + ") must be a positive multiple of num_key_value_heads (" + numKvHeads + ")");
        }
        if (hiddenSize <= 0 || vocabSize <= 0 || numLayers <= 0 || intermediateSize <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("sizes must be positive");
        }
        if (rotaryDim(headDim, partialRotaryFactor) % 2 != 0 || partialRotaryFactor <= 0 || partialRotaryFactor > 1) {
            throw new IllegalArgumentException("partial_rotary_factor " + partialRotaryFactor
                    + " must give an even rotary dimension of head_dim " + headDim);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
        if (hybrid != null && hybrid.layers().size() != numLayers) {
            throw new IllegalArgumentException("the layer pattern has " + hybrid.layers().size() + " layers, not "
                    + numLayers);
        }
    }

    /** True for models with recurrent (Mamba) layers next to attention: NemotronH. */
    public boolean isHybrid() {
        return hybrid != null;
    }

    public int rotaryDim() {
        return rotaryDim(headDim, partialRotaryFactor);
    }

    private static int rotaryDim(int headDim, double factor) {
        return (int) (headDim * factor);
    }

    public int queriesPerKvHead() {
        return numHeads / numKvHeads;
    }

    /** config.json as a tree (Infinity allowed), for loaders that look at it before choosing a config type. */
    public static JsonNode readRoot(Path folder) {
        Path file = folder.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(file + ": missing (a model folder needs config.json)");
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelLoadException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    public static ModelConfig read(Path folder) {
        Path file = folder.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(file + ": missing (a model folder needs config.json)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelLoadException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return parse(root);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The {@code text_config} of a multimodal model: transformers names its type by
     * {@code model_type} there, not by {@code architectures}.
     */
    public static ModelConfig parseText(JsonNode textConfig) {
        if (textConfig.path("architectures").isArray() && !textConfig.path("architectures").isEmpty()) {
            return parse(textConfig);
        }
        String type = textConfig.path("model_type").asText("llama");
        String architecture = switch (type) {
            case "llama", "mistral" -> "LlamaForCausalLM";
            case "nemotron" -> "NemotronForCausalLM";
            case "nemotron_h" -> HybridModel.ARCHITECTURE;
            default -> throw new IllegalArgumentException("text_config model_type '" + type
                    + "' is not supported (llama, nemotron, nemotron_h are)");
        };
        ObjectNode copy = textConfig.deepCopy();
        copy.putArray("architectures").add(architecture);
        return parse(copy);
    }

    static ModelConfig parse(JsonNode root) {
        JsonNode archs = root.path("architectures");
        if (!archs.isArray() || archs.isEmpty()) {
            throw new IllegalArgumentException("no 'architectures' entry");
        }
        if (archs.get(0).asText().equals(HybridModel.ARCHITECTURE)) {
            return parseHybrid(root);
        }
        int hidden = requireInt(root, "hidden_size");
        int heads = requireInt(root, "num_attention_heads");
        int kvHeads = root.path("num_key_value_heads").asInt(heads);
        int headDim = root.hasNonNull("head_dim") ? root.get("head_dim").asInt()
                : root.hasNonNull("kv_channels") ? root.get("kv_channels").asInt() : hidden / heads;
        double eps = root.hasNonNull("norm_eps") ? root.get("norm_eps").asDouble()
                : root.path("rms_norm_eps").asDouble(1e-6);
        double partial = root.hasNonNull("partial_rotary_factor") ? root.get("partial_rotary_factor").asDouble()
                : root.path("rope_percent").asDouble(1.0);
        List<Integer> eos = tokenIds(root.path("eos_token_id"));
        return new ModelConfig(
                archs.get(0).asText(),
                requireInt(root, "vocab_size"),
                hidden,
                requireInt(root, "intermediate_size"),
                requireInt(root, "num_hidden_layers"),
                heads,
                kvHeads,
                headDim,
                root.path("max_position_embeddings").asInt(2048),
                root.path("rope_theta").asDouble(10000.0),
                partial,
                parseRopeScaling(root.path("rope_scaling")),
                eps,
                root.path("tie_word_embeddings").asBoolean(false),
                root.path("attention_bias").asBoolean(false),
                root.path("mlp_bias").asBoolean(false),
                root.path("hidden_act").asText(""),
                root.path("bos_token_id").asInt(-1),
                eos);
    }

    /** NemotronH: the layer count comes from the pattern, and several fields have their own names and defaults. */
    private static ModelConfig parseHybrid(JsonNode root) {
        HybridConfig hybrid = HybridConfig.parse(root);
        int heads = root.path("num_attention_heads").asInt(32);
        String act = root.path("mlp_hidden_act").asText("relu2");
        return new ModelConfig(
                HybridModel.ARCHITECTURE,
                requireInt(root, "vocab_size"),
                requireInt(root, "hidden_size"),
                root.path("intermediate_size").asInt(21504),
                hybrid.layers().size(),
                heads,
                root.path("num_key_value_heads").asInt(heads),
                root.path("head_dim").asInt(128),
                root.path("max_position_embeddings").asInt(4096),
                10000.0, 1.0, null,
                root.path("layer_norm_epsilon").asDouble(1e-5),
                root.path("tie_word_embeddings").asBoolean(false),
                false,
                root.path("mlp_bias").asBoolean(false),
                act,
                root.path("bos_token_id").asInt(-1),
                tokenIds(root.path("eos_token_id")),
                hybrid);
    }

    /** A token id field that may be one id or a list of ids (as eos_token_id is); empty if absent. */
    static List<Integer> tokenIds(JsonNode node) {
        List<Integer> ids = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(n -> ids.add(n.asInt()));
        } else if (node.canConvertToInt()) {
            ids.add(node.asInt());
        }
        return ids;
    }

    private static RopeScaling parseRopeScaling(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return null;
        }
        String type = node.hasNonNull("rope_type") ? node.get("rope_type").asText() : node.path("type").asText("");
        if (type.equals("default")) {
            return null;
        }
        if (!type.equals("linear") && !type.equals("llama3")) {
            throw new IllegalArgumentException("rope_scaling type '" + type + "' is not supported (linear, llama3 are)");
        }
        return new RopeScaling(type, node.path("factor").asDouble(1.0), node.path("low_freq_factor").asDouble(1.0),
                node.path("high_freq_factor").asDouble(4.0),
                node.path("original_max_position_embeddings").asInt(8192));
    }

    private static int requireInt(JsonNode root, String field) {
        if (!root.path(field).canConvertToInt()) {
            throw new IllegalArgumentException("missing or non-integer '" + field + "'");
        }
        return root.get(field).asInt();
    }

    /** The config.json a Hugging Face loader would accept for this model. */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(architecture);
        if (hybrid != null) {
            return writeHybrid(o);
        }
        o.put("model_type", architecture.equals("NemotronForCausalLM") ? "nemotron" : "llama");
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numLayers);
        o.put("num_attention_heads", numHeads);
        o.put("num_key_value_heads", numKvHeads);
        o.put("head_dim", headDim);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("rope_theta", ropeTheta);
        if (architecture.equals("NemotronForCausalLM")) {
            o.put("partial_rotary_factor", partialRotaryFactor);
            o.put("norm_eps", normEps);
        } else {
            o.put("rms_norm_eps", normEps);
        }
        if (ropeScaling != null) {
            ObjectNode s = o.putObject("rope_scaling");
            s.put("rope_type", ropeScaling.type());
            s.put("factor", ropeScaling.factor());
            if (ropeScaling.type().equals("llama3")) {
                s.put("low_freq_factor", ropeScaling.lowFreqFactor());
                s.put("high_freq_factor", ropeScaling.highFreqFactor());
                s.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
        }
        o.put("tie_word_embeddings", tieWordEmbeddings);
        o.put("attention_bias", attentionBias);
        o.put("mlp_bias", mlpBias);
        o.put("hidden_act", hiddenAct);
        o.put("bos_token_id", bosTokenId);
        if (eosTokenIds.size() == 1) {
            o.put("eos_token_id", eosTokenIds.get(0));
        } else {
            ArrayNode a = o.putArray("eos_token_id");
            eosTokenIds.forEach(a::add);
        }
        o.put("torch_dtype", "float32");
        return o;
    }

    private ObjectNode writeHybrid(ObjectNode o) {
        o.put("model_type", "nemotron_h");
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_attention_heads", numHeads);
        o.put("num_key_value_heads", numKvHeads);
        o.put("head_dim", headDim);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("layer_norm_epsilon", normEps);
        o.put("mlp_hidden_act", hiddenAct);
        o.put("mlp_bias", mlpBias);
        o.put("tie_word_embeddings", tieWordEmbeddings);
        hybrid.write(o);
        o.put("bos_token_id", bosTokenId);
        ArrayNode eos = o.putArray("eos_token_id");
        eosTokenIds.forEach(eos::add);
        o.put("torch_dtype", "float32");
        return o;
    }
}
