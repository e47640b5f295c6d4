package ai.nuri.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * A Responses API request ({@code POST /v1/responses}) read into the chat request it amounts to,
 * so that it is validated, templated, constrained and generated exactly as chat is: instructions
 * become a system message, the stored conversation of {@code previous_response_id} comes first,
 * input items become messages (function calls and their outputs as tool calls and tool
 * messages), {@code text.format} becomes {@code response_format}, flat function tools become
 * chat tools. Errors name the Responses field, not the chat one.
 */
record ResponsesRequest(GenerationRequest generation, ObjectNode echo, ArrayNode conversation, boolean stream,
        boolean store) {
    private static final ObjectMapper JSON = ResponseShape.JSON;
    private static final Set<String> FIELDS = Set.of("model", "input", "instructions", "max_output_tokens", "temperature",
            "top_p", "stream", "text", "tools", "tool_choice", "metadata", "store", "previous_response_id", "user",
            "parallel_tool_calls", "truncation");

    static ResponsesRequest parse(JsonNode body, ModelRegistry models, ResponseStore store) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the request body must be a JSON object", null);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNull() && !FIELDS.contains(e.getKey())) {
                throw ApiException.unsupported(e.getKey());
            }
        }
        if (RequestParser.present(body, "truncation") && !body.get("truncation").asText().equals("disabled")) {
            throw ApiException.badRequest("'truncation' may only be \"disabled\"", "truncation");
        }
        ObjectNode chat = JSON.createObjectNode();
        copy(body, chat, "model", "model");
        copy(body, chat, "temperature", "temperature");
        copy(body, chat, "top_p", "top_p");
        copy(body, chat, "max_output_tokens", "max_tokens");
        copy(body, chat, "user", "user");
        copy(body, chat, "parallel_tool_calls", "parallel_tool_calls");
        ArrayNode history = JSON.createArrayNode();
        String previous = null;
        if (RequestParser.present(body, "previous_response_id")) {
            if (!body.get("previous_response_id").isTextual()) {
                throw ApiException.badRequest("'previous_response_id' must be a string", "previous_response_id");
            }
            previous = body.get("previous_response_id").asText();
            String id = previous;
            history.addAll(store.get(previous).orElseThrow(() -> new ApiException(404, "invalid_request_error",
                    "Previous response with id '" + id + "' not found (never stored, deleted, or expired).",
                    "previous_response_id", "response_not_found", null)).conversation());
        }
        ArrayNode input = input(body.get("input"));
        history.addAll(input);
        ArrayNode messages = chat.putArray("messages");
        JsonNode instructions = body.get("instructions");
        if (instructions != null && !instructions.isNull()) {
            if (!instructions.isTextual()) {
                throw ApiException.badRequest("'instructions' must be a string", "instructions");
            }
            messages.addObject().put("role", "system").put("content", instructions.asText());
        }
        messages.addAll(history);
        if (RequestParser.present(body, "tools") && !(body.get("tools").isArray() && body.get("tools").isEmpty())) {
            chat.set("tools", tools(body.get("tools"))); // an empty list is no tools here (Chat Completions refuses it)
        }
        if (RequestParser.present(body, "tool_choice")) {
            chat.set("tool_choice", toolChoice(body.get("tool_choice")));
        }
        if (RequestParser.present(body, "text")) {
            JsonNode format = text(body.get("text"));
            if (format != null) {
                chat.set("response_format", format);
            }
        }
        JsonNode metadata = metadata(body.get("metadata"));
        GenerationRequest generation;
        try {
            generation = RequestParser.chat(chat, models);
        } catch (ApiException e) {
            throw renamed(e);
        }
        boolean stream = RequestParser.bool(body, "stream", false);
        boolean keep = RequestParser.bool(body, "store", true);
        ObjectNode echo = JSON.createObjectNode();
        echo.set("instructions", instructions == null ? JSON.nullNode() : instructions);
        echo.set("max_output_tokens", body.has("max_output_tokens") ? body.get("max_output_tokens") : JSON.nullNode());
        echo.set("metadata", metadata);
        echo.put("parallel_tool_calls", RequestParser.bool(body, "parallel_tool_calls", true));
        if (previous == null) {
            echo.putNull("previous_response_id");
        } else {
            echo.put("previous_response_id", previous);
        }
        echo.put("store", keep);
        echo.put("temperature", body.path("temperature").asDouble(1.0));
        echo.put("top_p", body.path("top_p").asDouble(1.0));
        ObjectNode text = echo.putObject("text");
        text.set("format", RequestParser.present(body, "text") && body.get("text").has("format") ? body.get("text").get("format")
                : JSON.createObjectNode().put("type", "text"));
        echo.set("tool_choice", RequestParser.present(body, "tool_choice") ? body.get("tool_choice") : JSON.getNodeFactory().textNode("auto"));
        echo.set("tools", RequestParser.present(body, "tools") ? body.get("tools") : JSON.createArrayNode());
        echo.put("truncation", "disabled");
        echo.set("user", body.has("user") ? body.get("user") : JSON.nullNode());
        return new ResponsesRequest(generation, echo, history, stream, keep);
    }

    /** The input items as chat messages. */
    private static ArrayNode input(JsonNode input) {
        ArrayNode out = JSON.createArrayNode();
        if (input == null || input.isNull()) {
            throw ApiException.badRequest("'input' is required", "input");
        }
        if (input.isTextual()) {
            out.addObject().put("role", "user").put("content", input.asText());
            return out;
        }
        if (!input.isArray() || input.isEmpty()) {
            throw ApiException.badRequest("'input' must be a string or a non-empty list of items", "input");
        }
        ObjectNode pendingCalls = null; // consecutive function_call items become one assistant message
        for (int i = 0; i < input.size(); i++) {
            JsonNode item = input.get(i);
            String where = "input[" + i + "]";
            if (!item.isObject()) {
                throw ApiException.badRequest(where + " must be an object", where);
            }
            String type = item.path("type").asText(item.has("role") ? "message" : "");
            switch (type) {
                case "message" -> {
                    pendingCalls = null;
                    out.add(message(item, where));
                }
                case "function_call" -> {
                    if (!item.path("call_id").isTextual() || !item.path("name").isTextual() || !item.path("arguments").isTextual()) {
                        throw ApiException.badRequest(where + " (function_call) needs string call_id, name and arguments", where);
                    }
                    if (pendingCalls == null) {
                        pendingCalls = out.addObject().put("role", "assistant");
                        pendingCalls.putNull("content");
                        pendingCalls.putArray("tool_calls");
                    }
                    ObjectNode call = ((ArrayNode) pendingCalls.get("tool_calls")).addObject()
                            .put("id", item.get("call_id").asText()).put("type", "function");
                    call.putObject("function").put("name", item.get("name").asText()).put("arguments", item.get("arguments").asText());
                }
                case "function_call_output" -> {
                    pendingCalls = null;
                    if (!item.path("call_id").isTextual() || !item.path("output").isTextual()) {
                        throw ApiException.badRequest(where + " (function_call_output) needs string call_id and output", where);
                    }
                    out.addObject().put("role", "tool").put("tool_call_id", item.get("call_id").asText())
                            .put("content", item.get("output").asText());
                }
                default -> throw ApiException.badRequest(where + ".type '" + type + "' is not supported (message, "
                        + "function_call, function_call_output)", where + ".type");
            }
        }
        return out;
    }

    private static ObjectNode message(JsonNode item, String where) {
        String role = item.path("role").asText("");
        if (!Set.of("user", "assistant", "system", "developer").contains(role)) {
            throw ApiException.badRequest(where + ".role must be user, assistant, system or developer", where + ".role");
        }
        ObjectNode m = JSON.createObjectNode().put("role", role);
        JsonNode content = item.get("content");
        if (content != null && content.isTextual()) {
            return m.put("content", content.asText());
        }
        if (content == null || !content.isArray()) {
            throw ApiException.badRequest(where + ".content must be a string or a list of parts", where + ".content");
        }
        ArrayNode parts = m.putArray("content");
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            String at = where + ".content[" + j + "]";
            switch (part.path("type").asText("")) {
                case "input_text", "output_text" -> {
                    if (!part.path("text").isTextual()) {
                        throw ApiException.badRequest(at + ".text must be a string", at);
                    }
                    parts.addObject().put("type", "text").put("text", part.get("text").asText());
                }
                case "input_image" -> {
                    if (!part.path("image_url").isTextual()) {
                        throw ApiException.badRequest(at + ".image_url must be a data: or http(s) URL (file_id is not supported)", at);
                    }
                    parts.addObject().put("type", "image_url").putObject("image_url").put("url", part.get("image_url").asText());
                }
                default -> throw ApiException.badRequest(at + ".type '" + part.path("type").asText() + "' is not supported "
                        + "(input_text, input_image, output_text)", at + ".type");
            }
        }
        return m;
    }

    /** Flat Responses function tools as chat tools. */
    private static ArrayNode tools(JsonNode tools) {
        if (!tools.isArray()) {
            throw ApiException.badRequest("'tools' must be a list", "tools");
        }
        ArrayNode out = JSON.createArrayNode();
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            if (!t.path("type").asText().equals("function")) {
                throw ApiException.badRequest("tools[" + i + "].type '" + t.path("type").asText()
                        + "' is not supported (only function tools)", "tools[" + i + "].type");
            }
            ObjectNode f = JSON.createObjectNode();
            t.fields().forEachRemaining(e -> {
                if (!e.getKey().equals("type")) {
                    f.set(e.getKey(), e.getValue());
                }
            });
            ObjectNode chatTool = out.addObject().put("type", "function");
            chatTool.set("function", f);
        }
        return out;
    }

    private static JsonNode toolChoice(JsonNode c) {
        if (c.isObject() && c.path("type").asText().equals("function") && c.has("name")) {
            ObjectNode named = JSON.createObjectNode().put("type", "function");
            named.putObject("function").set("name", c.get("name"));
            return named;
        }
        return c;
    }

    /** {@code text.format} as chat's {@code response_format}; null for plain text. */
    private static JsonNode text(JsonNode text) {
        if (!text.isObject()) {
            throw ApiException.badRequest("'text' must be an object", "text");
        }
        for (Iterator<String> it = text.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("format")) {
                throw ApiException.unsupported("text." + k);
            }
        }
        JsonNode f = text.get("format");
        if (f == null || f.isNull()) {
            return null;
        }
        if (f.path("type").asText().equals("json_schema")) {
            ObjectNode rf = JSON.createObjectNode().put("type", "json_schema");
            ObjectNode js = rf.putObject("json_schema");
            for (String k : new String[] {"name", "schema", "strict", "description"}) {
                if (f.has(k)) {
                    js.set(k, f.get(k));
                }
            }
            return rf;
        }
        return f;
    }

    private static JsonNode metadata(JsonNode m) {
        if (m == null || m.isNull()) {
            return JSON.createObjectNode();
        }
        if (!m.isObject() || m.size() > 16) {
            throw ApiException.badRequest("'metadata' must be an object of at most 16 string values", "metadata");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().length() > 64 || !e.getValue().isTextual() || e.getValue().asText().length() > 512) {
                throw ApiException.badRequest("'metadata' keys are at most 64 characters and values strings of at most 512",
                        "metadata");
            }
        }
        return m;
    }

    /** A chat-side error, named as the Responses API calls the field. */
    private static ApiException renamed(ApiException e) {
        String param = e.param();
        if (param == null) {
            return e;
        }
        String renamed = param.replaceFirst("^messages", "input").replaceFirst("^max_tokens", "max_output_tokens")
                .replaceFirst("^response_format\\.json_schema", "text.format").replaceFirst("^response_format", "text.format")
                .replaceFirst("^tools\\[(\\d+)\\]\\.function", "tools[$1]");
        if (renamed.equals(param)) {
            return e;
        }
        String message = e.getMessage().replace(param, renamed).replace("'max_tokens'", "'max_output_tokens'");
        return new ApiException(e.status(), e.type(), message, renamed, e.code(), e.retryAfterSeconds());
    }

    private static void copy(JsonNode from, ObjectNode to, String field, String as) {
        if (RequestParser.present(from, field)) {
            to.set(as, from.get(field));
        }
    }
}
