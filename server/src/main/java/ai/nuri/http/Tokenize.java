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
        int[] ids;
        if (body.path("prompt").isTextual()) {
            ids = model.tokenizer().encodePrompt(body.get("prompt").asText()); // as /v1/completions encodes it
        } else if (body.path("messages").isArray()) {
            // As chat completions sees them: image parts counted (not fetched), each expanded to its tokens.
            List<RequestParser.ImageRef> imageUrls = new ArrayList<>();
            List<ChatMessage> messages = RequestParser.messages(body.get("messages"), imageUrls);
            if (model.tokenizer().chatTemplate().isEmpty()) {
                throw ApiException.badRequest("model has no chat template", "messages");
            }
            try {
                List<Object> tools = ToolRequest.of(body).templateValue(); // the tools reach the template as in chat
                ids = model.tokenizer().encodeChat(messages, tools, body.path("add_generation_prompt").asBoolean(true));
            } catch (ChatTemplate.TemplateException e) {
                throw ApiException.badRequest(e.getMessage(), "messages");
            }
            ids = RequestParser.expandImageTokens(model, ids, imageUrls.size());
        } else {
            throw ApiException.badRequest("'prompt' (a string) or 'messages' is required", "prompt");
        }
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
