package ai.nuri.http;

import ai.nuri.text.ChatMessage;
import ai.nuri.text.ChatTemplate;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** vLLM's /tokenize and /detokenize. */
final class Tokenize {
    private Tokenize() {}

    static JsonNode tokenize(JsonNode body, ModelRegistry models) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the request body must be a JSON object", null);
        }
        ServedModel model = models.resolve(body.path("model").isTextual() ? body.get("model").asText() : null);
        String text;
        if (body.path("prompt").isTextual()) {
            text = body.get("prompt").asText();
        } else if (body.path("messages").isArray()) {
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode m : body.get("messages")) {
                if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                    throw ApiException.badRequest("each message needs a string role and content", "messages");
                }
                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
            }
            ChatTemplate template = model.tokenizer().chatTemplate()
                    .orElseThrow(() -> ApiException.badRequest("model has no chat template", "messages"));
            try {
                text = template.render(messages, body.path("add_generation_prompt").asBoolean(true));
            } catch (ChatTemplate.TemplateException e) {
                throw ApiException.badRequest(e.getMessage(), "messages");
            }
        } else {
            throw ApiException.badRequest("'prompt' (a string) or 'messages' is required", "prompt");
        }
        int[] ids = model.tokenizer().encode(text);
        ObjectNode out = ResponseShape.JSON.createObjectNode();
        var tokens = out.putArray("tokens");
        for (int id : ids) {
            tokens.add(id);
        }
        out.put("count", ids.length);
        out.put("max_model_len", model.maxModelLen());
        return out;
    }

    static JsonNode detokenize(JsonNode body, ModelRegistry models) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the request body must be a JSON object", null);
        }
        ServedModel model = models.resolve(body.path("model").isTextual() ? body.get("model").asText() : null);
        JsonNode tokens = body.get("tokens");
        if (tokens == null || !tokens.isArray()) {
            throw ApiException.badRequest("'tokens' must be a list of token ids", "tokens");
        }
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= model.vocabSize()) {
                throw ApiException.badRequest("token " + t + " is not a token id of this model", "tokens");
            }
            ids[i] = t.asInt();
        }
        ObjectNode out = ResponseShape.JSON.createObjectNode();
        out.put("prompt", model.tokenizer().decode(ids, false));
        return out;
    }
}
