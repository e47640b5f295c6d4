package ai.nuri.model.vision;

import ai.nuri.model.ModelConfig;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * A {@code LlavaForConditionalGeneration} config.json: the text decoder's config, the vision
 * tower's, and how image features reach the decoder (which hidden states, whether the class
 * token is dropped, the projector, the image token).
 */
public record LlavaConfig(ModelConfig text, VisionConfig vision, int imageTokenIndex, int[] featureLayers,
        boolean dropClassToken, String projectorActivation, boolean projectorBias) {
    public static final String ARCHITECTURE = "LlavaForConditionalGeneration";

    /** Image tokens per image in the prompt: the tower's tokens, less the class token under "default". */
    public int imageTokens() {
        return vision.tokens() - (dropClassToken ? 1 : 0);
    }

    /** The projector's input width: the selected hidden states side by side. */
    public int projectorInput() {
        return vision.hiddenSize() * featureLayers.length;
    }

    /** The config.json a Hugging Face loader would accept for this model. */
    public com.fasterxml.jackson.databind.node.ObjectNode toJson() {
        var o = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        o.putArray("architectures").add(ARCHITECTURE);
        o.put("model_type", "llava");
        var textJson = text.toJson();
        textJson.remove("architectures");
        o.set("text_config", textJson);
        o.set("vision_config", vision.toJson());
        o.put("image_token_index", imageTokenIndex);
        o.put("image_seq_length", imageTokens());
        if (featureLayers.length == 1) {
            o.put("vision_feature_layer", featureLayers[0]);
        } else {
            var a = o.putArray("vision_feature_layer");
            for (int l : featureLayers) {
                a.add(l);
            }
        }
        o.put("vision_feature_select_strategy", dropClassToken ? "default" : "full");
        o.put("projector_hidden_act", projectorActivation);
        o.put("multimodal_projector_bias", projectorBias);
        o.put("tie_word_embeddings", text.tieWordEmbeddings());
        o.put("torch_dtype", "float32");
        return o;
    }

    public static LlavaConfig parse(JsonNode root) {
        JsonNode text = root.path("text_config");
        if (!text.isObject()) {
            throw new IllegalArgumentException("LLaVA needs a 'text_config'");
        }
        ModelConfig textConfig = ModelConfig.parseText(text);
        VisionConfig vision = VisionConfig.parse(root.path("vision_config"));
        JsonNode layer = root.path("vision_feature_layer");
        int[] layers;
        if (layer.isArray()) {
            layers = new int[layer.size()];
            for (int i = 0; i < layers.length; i++) {
                layers[i] = layer.get(i).asInt();
            }
        } else {
            layers = new int[] {layer.asInt(-2)};
        }
        for (int l : layers) {
            if (l < -(vision.layers() + 1) || l > vision.layers()) {
                throw new IllegalArgumentException("vision_feature_layer " + l + " is outside the tower's "
                        + (vision.layers() + 1) + " hidden states");
            }
        }
        String strategy = root.path("vision_feature_select_strategy").asText("default");
        if (!strategy.equals("default") && !strategy.equals("full")) {
            throw new IllegalArgumentException("vision_feature_select_strategy '" + strategy + "' is not supported"
                    + " (default, full are)");
        }
        if (strategy.equals("default") && vision.kind() != VisionConfig.Kind.CLIP) {
            throw new IllegalArgumentException("vision_feature_select_strategy 'default' drops a class token, and a"
                    + " SigLIP tower has none");
        }
        String act = root.path("projector_hidden_act").asText("gelu");
        Activations.check(act);
        JsonNode imageToken = root.hasNonNull("image_token_index") ? root.get("image_token_index") : root.path("image_token_id");
        if (!imageToken.canConvertToInt()) {
            throw new IllegalArgumentException("LLaVA needs 'image_token_index'");
        }
        return new LlavaConfig(textConfig, vision, imageToken.asInt(), layers, strategy.equals("default"), act,
                root.path("multimodal_projector_bias").asBoolean(true));
    }
}
