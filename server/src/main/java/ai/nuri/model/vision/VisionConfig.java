package ai.nuri.model.vision;

import com.fasterxml.jackson.databind.JsonNode;

/** A LLaVA {@code vision_config}: a CLIP or SigLIP vision transformer. */
public record VisionConfig(Kind kind, int hiddenSize, int intermediateSize, int layers, int heads, int imageSize,
        int patchSize, int channels, String activation, double eps) {

    /** CLIP has a class token and a norm before the encoder; SigLIP neither. */
    public enum Kind { CLIP, SIGLIP }

    public VisionConfig {
        if (hiddenSize % heads != 0 || imageSize % patchSize != 0 || layers < 1) {
            throw new IllegalArgumentException("vision_config: hidden_size must divide into heads, image_size into"
                    + " patches, and there must be layers");
        }
    }

    public int patchesPerSide() {
        return imageSize / patchSize;
    }

    /** Tokens the tower produces per image: one per patch, plus CLIP's class token. */
    public int tokens() {
        return patchesPerSide() * patchesPerSide() + (kind == Kind.CLIP ? 1 : 0);
    }

    /** The vision_config a Hugging Face loader would accept. */
    public com.fasterxml.jackson.databind.node.ObjectNode toJson() {
        var o = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        o.put("model_type", kind == Kind.CLIP ? "clip_vision_model" : "siglip_vision_model");
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", layers);
        o.put("num_attention_heads", heads);
        o.put("image_size", imageSize);
        o.put("patch_size", patchSize);
        o.put("num_channels", channels);
        o.put("hidden_act", activation);
        o.put("layer_norm_eps", eps);
        if (kind == Kind.SIGLIP) {
            o.put("vision_use_head", false);
        }
        return o;
    }

    static VisionConfig parse(JsonNode v) {
        String type = v.path("model_type").asText("clip_vision_model");
        Kind kind = switch (type) {
            case "clip_vision_model" -> Kind.CLIP;
            case "siglip_vision_model" -> Kind.SIGLIP;
            default -> throw new IllegalArgumentException("vision_config model_type '" + type
                    + "' is not supported (clip_vision_model, siglip_vision_model are)");
        };
        String act = v.path("hidden_act").asText(kind == Kind.CLIP ? "quick_gelu" : "gelu_pytorch_tanh");
        Activations.check(act);
        return new VisionConfig(kind, v.path("hidden_size").asInt(768), v.path("intermediate_size").asInt(3072),
                v.path("num_hidden_layers").asInt(12), v.path("num_attention_heads").asInt(12),
                v.path("image_size").asInt(224), v.path("patch_size").asInt(kind == Kind.CLIP ? 32 : 16),
                v.path("num_channels").asInt(3), act, v.path("layer_norm_eps").asDouble(kind == Kind.CLIP ? 1e-5 : 1e-6));
    }
}
