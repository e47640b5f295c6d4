package ai.nuri.http;

import ai.nuri.engine.EngineImage;
import ai.nuri.engine.SamplingParams;
import ai.nuri.guide.Grammar;
import ai.nuri.model.vision.ImageTokens;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.ChatTemplate;
import ai.nuri.text.ToolCall;
import ai.nuri.text.ToolCallFormat;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads OpenAI chat and completions bodies into {@link GenerationRequest}s, rejecting anything
 * out of range with a 400 that names the parameter. Parameters the server does not implement
 * are refused by name, never silently ignored. Runs off the event loop: it renders templates
 * and tokenizes.
 */
final class RequestParser {
    static final int MAX_N = 16;
    static final int MAX_STOP = 16;
    static final int MAX_TOP_LOGPROBS = 20;

    private static final Set<String> COMMON = Set.of("model", "max_tokens", "temperature", "top_p", "top_k", "min_p",
            "presence_penalty", "frequency_penalty", "repetition_penalty", "stop", "seed", "n", "stream",
            "stream_options", "user", "logprobs", "ignore_eos", "stop_token_ids", "return_token_ids", "structured_outputs",
            "store");
    private static final Set<String> CHAT_ONLY = Set.of("messages", "max_completion_tokens", "top_logprobs",
            "response_format", "tools", "tool_choice", "parallel_tool_calls");
    private static final Set<String> COMPLETION_ONLY = Set.of("prompt");

    private RequestParser() {}

    static GenerationRequest chat(JsonNode body, ModelRegistry models) {
        requireObject(body);
        rejectUnknown(body, CHAT_ONLY);
        ServedModel model = models.resolve(text(body, "model"));
        List<ImageRef> imageUrls = new ArrayList<>();
        List<ChatMessage> messages = messages(body.get("messages"), imageUrls);
        if (model.tokenizer().chatTemplate().isEmpty()) {
            throw ApiException.badRequest("model '" + model.id() + "' has no chat template; use /v1/completions", "messages");
        }
        List<EngineImage> images = images(model, imageUrls);
        ToolRequest tools = ToolRequest.of(body);
        int[] prompt = chatPrompt(model, messages, images.size(), tools.templateValue());
        ToolCallFormat toolFormat = tools.parsesCalls()
                ? ToolCallFormat.of(model.tokenizer().chatTemplate().map(ChatTemplate::source).orElse(null)) : null;
        Grammar toolConstraint = toolFormat == null ? null : tools.constraint(toolFormat);
        Grammar formatConstraint = StructuredOutputs.of(body);
        if (toolConstraint != null && formatConstraint != null) {
            throw ApiException.badRequest("a forced tool call ('tool_choice': " + body.get("tool_choice")
                    + ") cannot be combined with 'response_format' or 'structured_outputs'", "tool_choice");
        }
        int logprobs = -1;
        if (bool(body, "logprobs", false)) {
            logprobs = intIn(body, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS);
        } else if (present(body, "top_logprobs")) {
            throw ApiException.badRequest("'top_logprobs' requires 'logprobs': true", "top_logprobs");
        }
        Integer maxTokens = null; // absent: whatever the context leaves, as vLLM does
        if (present(body, "max_completion_tokens")) {
            maxTokens = intIn(body, "max_completion_tokens", 0, 1, Integer.MAX_VALUE);
        } else if (present(body, "max_tokens")) {
            maxTokens = intIn(body, "max_tokens", 0, 1, Integer.MAX_VALUE);
        }
        GenerationRequest r = build(body, model, prompt, maxTokens, logprobs, bool(body, "return_token_ids", false));
        return new GenerationRequest(r.model(), r.prompt(), r.sampling(), r.n(), r.stream(), r.includeUsage(),
                r.logprobs(), r.returnTokenIds(), images, toolConstraint != null ? toolConstraint : formatConstraint,
                toolFormat);
    }

    /** Fetches, decodes and preprocesses a chat's images for its model: a 400 for anything wrong. */
    private static List<EngineImage> images(ServedModel model, List<ImageRef> refs) {
        if (refs.isEmpty()) {
            return List.of();
        }
        if (!model.acceptsImages()) {
            throw ApiException.badRequest("model '" + model.id() + "' does not accept images", refs.get(0).param());
        }
        if (refs.size() > model.images().maxImages()) {
            throw ApiException.badRequest("the request has " + refs.size() + " images; the limit is "
                    + model.images().maxImages() + " per request", "messages");
        }
        List<EngineImage> out = new ArrayList<>();
        for (ImageRef ref : refs) {
            out.add(model.images().load(ref.url(), ref.param()));
        }
        return out;
    }

    /** An image part's URL and where it was, for error messages. */
    record ImageRef(String url, String param) {}

    /**
     * The chat rendered and tokenized, each image's one placeholder token expanded to the image's
     * feature rows, as transformers' LLaVA processor expands it.
     */
    static int[] chatPrompt(ServedModel model, List<ChatMessage> messages, int images, List<Object> tools) {
        int[] rendered;
        try {
            rendered = model.tokenizer().encodeChat(messages, tools);
        } catch (ChatTemplate.TemplateException e) {
            throw ApiException.badRequest(e.getMessage(), "messages");
        }
        return expandImageTokens(model, rendered, images);
    }

    /** Each image's one placeholder token in {@code rendered} becomes as many tokens as the model has feature rows. */
    static int[] expandImageTokens(ServedModel model, int[] rendered, int images) {
        if (images == 0) {
            return rendered;
        }
        if (!model.acceptsImages()) {
            throw ApiException.badRequest("model '" + model.id() + "' does not accept images", "messages");
        }
        var lm = model.engine().model();
        int found = ImageTokens.count(rendered, lm.imageTokenId());
        if (found != images) {
            throw ApiException.badRequest("the chat template placed " + found + " image tokens for " + images
                    + " images", "messages");
        }
        return lm.expandImageTokens(rendered);
    }

    static GenerationRequest completion(JsonNode body, ModelRegistry models) {
        requireObject(body);
        rejectUnknown(body, COMPLETION_ONLY);
        ServedModel model = models.resolve(text(body, "model"));
        JsonNode p = body.get("prompt");
        int[] prompt;
        if (p != null && p.isTextual()) {
            prompt = model.tokenizer().encodePrompt(p.asText());
        } else if (p != null && p.isArray() && !p.isEmpty() && allInts(p)) {
            prompt = new int[p.size()];
            for (int i = 0; i < prompt.length; i++) {
                long id = p.get(i).asLong();
                if (id < 0 || id >= model.vocabSize()) {
                    throw ApiException.badRequest("token id " + id + " is outside the vocabulary (0.." + (model.vocabSize() - 1) + ")", "prompt");
                }
                prompt[i] = (int) id;
            }
        } else if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            prompt = model.tokenizer().encodePrompt(p.get(0).asText());
        } else {
            throw ApiException.badRequest("'prompt' must be a string or a non-empty list of token ids", "prompt");
        }
        if (prompt.length == 0) {
            throw ApiException.badRequest("the prompt is empty", "prompt");
        }
        int logprobs = present(body, "logprobs") ? intIn(body, "logprobs", 0, 0, MAX_TOP_LOGPROBS) : -1;
        int maxTokens = intIn(body, "max_tokens", 16, 1, Integer.MAX_VALUE); // OpenAI's completions default
        GenerationRequest r = build(body, model, prompt, maxTokens, logprobs, bool(body, "return_token_ids", false));
        Grammar constraint = StructuredOutputs.of(body);
        return new GenerationRequest(r.model(), r.prompt(), r.sampling(), r.n(), r.stream(), r.includeUsage(),
                r.logprobs(), r.returnTokenIds(), List.of(), constraint, null);
    }

    private static GenerationRequest build(JsonNode body, ServedModel model, int[] prompt, Integer maxTokens,
            int logprobs, boolean returnTokenIds) {
        int context = model.maxModelLen();
        String promptField = body.has("messages") ? "messages" : "prompt";
        if (prompt.length >= context) {
            throw contextExceeded("This model's maximum context length is " + context + " tokens; the prompt has "
                    + prompt.length + " tokens", promptField);
        }
        int max = maxTokens != null ? maxTokens : context - prompt.length;
        if (prompt.length + max > context) {
            throw contextExceeded("This model's maximum context length is " + context + " tokens; the prompt ("
                    + prompt.length + ") plus max_tokens (" + max + ") exceed it", "max_tokens");
        }
        int n = intIn(body, "n", 1, 1, MAX_N);
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = false;
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull()) {
            // Without streaming there is nothing for it to change: accepted and ignored (clients send it with
            // their defaults), but still checked, so a misspelt option is not silently lost.
            if (!so.isObject()) {
                throw ApiException.badRequest("'stream_options' must be an object", "stream_options");
            }
            for (Iterator<String> it = so.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("include_usage")) {
                    throw ApiException.unsupported("stream_options." + f);
                }
            }
            includeUsage = stream && bool(so, "include_usage", false);
        }
        if (present(body, "store") && bool(body, "store", false)) {
            throw ApiException.badRequest("'store': true is not supported (this server keeps no chat completions); "
                    + "leave it out or send false", "store");
        }
        if (present(body, "user") && !body.get("user").isTextual()) {
            throw ApiException.badRequest("'user' must be a string", "user");
        }
        // As vLLM does: what a request leaves unset comes from the model's generation_config.json, else OpenAI's defaults.
        ai.nuri.model.GenerationConfig defaults = model.engine().model().generationConfig();
        SamplingParams sampling;
        try {
            sampling = new SamplingParams(
                    number(body, "temperature", defaults.temperature() != null ? defaults.temperature() : 1.0, 0, 2),
                    number(body, "top_p", defaults.topP() != null ? defaults.topP() : 1.0, Double.MIN_VALUE, 1),
                    present(body, "top_k") || defaults.topK() == null ? topK(body) : Math.max(defaults.topK(), 0),
                    number(body, "min_p", 0, 0, 1),
                    number(body, "repetition_penalty", defaults.repetitionPenalty() != null ? defaults.repetitionPenalty() : 1.0,
                            Double.MIN_VALUE, 10),
                    number(body, "frequency_penalty", 0, -2, 2),
                    number(body, "presence_penalty", 0, -2, 2),
                    present(body, "seed") ? longValue(body, "seed") : null,
                    max,
                    stops(body),
                    stopTokenIds(body, model),
                    bool(body, "ignore_eos", false));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage(), null);
        }
        return new GenerationRequest(model, prompt, sampling, n, stream, includeUsage, logprobs, returnTokenIds);
    }

    /** As OpenAI answers a prompt over the context: code {@code context_length_exceeded}. */
    private static ApiException contextExceeded(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, "context_length_exceeded", null);
    }

    /** Reads the messages; each image part's URL is added to {@code imageUrls}, in order. */
    static List<ChatMessage> messages(JsonNode node, List<ImageRef> imageUrls) {
        if (node == null || node.isNull()) {
            throw ApiException.badRequest("'messages' is required", "messages");
        }
        if (!node.isArray() || node.isEmpty()) {
            throw ApiException.badRequest("'messages' must be a non-empty list", "messages");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.badRequest(where + " must be an object", where);
            }
            String role = m.path("role").asText(null);
            if (!m.path("role").isTextual() || !Set.of("system", "user", "assistant", "developer", "tool").contains(role)) {
                throw ApiException.badRequest(where + ".role must be one of system, developer, user, assistant, tool",
                        where + ".role");
            }
            JsonNode calls = m.get("tool_calls");
            if (role.equals("assistant") && calls != null && !calls.isNull()) {
                JsonNode c = m.get("content");
                String text = c == null || c.isNull() ? null : content(role, c, where, imageUrls).content();
                out.add(ChatMessage.assistantCalls(text, toolCalls(calls, where + ".tool_calls")));
            } else if (role.equals("tool")) {
                JsonNode id = m.get("tool_call_id");
                if (id == null || !id.isTextual()) {
                    throw ApiException.badRequest(where + ".tool_call_id is required for a tool message", where + ".tool_call_id");
                }
                out.add(ChatMessage.toolResult(id.asText(), content(role, m.get("content"), where, imageUrls).content()));
            } else {
                out.add(content(role.equals("developer") ? "system" : role, m.get("content"), where, imageUrls));
            }
        }
        return out;
    }

    /** An assistant message's earlier calls: arguments must be JSON text (templates receive them parsed). */
    private static List<ToolCall> toolCalls(JsonNode calls, String where) {
        if (!calls.isArray()) {
            throw ApiException.badRequest(where + " must be a list", where);
        }
        List<ToolCall> out = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            JsonNode c = calls.get(i);
            String at = where + "[" + i + "]";
            JsonNode f = c.path("function");
            if (!c.path("id").isTextual() || !f.path("name").isTextual() || !f.path("arguments").isTextual()) {
                throw ApiException.badRequest(at + " must have a string id and function.name and function.arguments", at);
            }
            try {
                ResponseShape.JSON.readTree(f.get("arguments").asText());
            } catch (java.io.IOException e) {
                throw ApiException.badRequest(at + ".function.arguments must be JSON text", at + ".function.arguments");
            }
            out.add(new ToolCall(c.get("id").asText(), f.get("name").asText(), f.get("arguments").asText()));
        }
        return out;
    }

    private static ChatMessage content(String role, JsonNode c, String where, List<ImageRef> imageUrls) {
        if (c == null || c.isNull()) {
            throw ApiException.badRequest(where + ".content is required", where + ".content");
        }
        if (c.isTextual()) {
            return new ChatMessage(role, c.asText());
        }
        if (!c.isArray()) {
            throw ApiException.badRequest(where + ".content must be a string or a list of parts", where + ".content");
        }
        List<ChatMessage.Part> parts = new ArrayList<>();
        boolean images = false;
        for (int j = 0; j < c.size(); j++) {
            JsonNode part = c.get(j);
            String type = part.path("type").asText("");
            switch (type) {
                case "text" -> {
                    if (!part.path("text").isTextual()) {
                        throw ApiException.badRequest(where + ".content[" + j + "].text must be a string", where + ".content");
                    }
                    parts.add(new ChatMessage.Part(part.get("text").asText()));
                }
                case "image_url" -> {
                    JsonNode url = part.path("image_url").isTextual() ? part.get("image_url") : part.path("image_url").path("url");
                    if (!url.isTextual()) {
                        throw ApiException.badRequest(where + ".content[" + j + "].image_url.url must be a string",
                                where + ".content");
                    }
                    if (!role.equals("user")) {
                        throw ApiException.badRequest(where + ": only user messages may carry images", where + ".content");
                    }
                    imageUrls.add(new ImageRef(url.asText(), where + ".content"));
                    parts.add(ChatMessage.Part.IMAGE);
                    images = true;
                }
                default -> throw ApiException.badRequest(where + ".content[" + j + "] has unknown type '" + type + "'",
                        where + ".content");
            }
        }
        if (images) {
            return ChatMessage.withParts(role, parts);
        }
        StringBuilder sb = new StringBuilder();
        parts.forEach(p -> sb.append(p.text()));
        return new ChatMessage(role, sb.toString());
    }

    private static void requireObject(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the request body must be a JSON object", null);
        }
    }

    private static void rejectUnknown(JsonNode body, Set<String> endpointFields) {
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().isNull()) {
                continue; // clients send explicit nulls for defaults
            }
            if (!COMMON.contains(e.getKey()) && !endpointFields.contains(e.getKey())) {
                throw ApiException.unsupported(e.getKey());
            }
        }
    }

    static boolean present(JsonNode body, String field) {
        return body.has(field) && !body.get(field).isNull();
    }

    private static String text(JsonNode body, String field) {
        if (!present(body, field)) {
            return null;
        }
        if (!body.get(field).isTextual()) {
            throw ApiException.badRequest("'" + field + "' must be a string", field);
        }
        return body.get(field).asText();
    }

    static boolean bool(JsonNode body, String field, boolean fallback) {
        if (!present(body, field)) {
            return fallback;
        }
        if (!body.get(field).isBoolean()) {
            throw ApiException.badRequest("'" + field + "' must be a boolean", field);
        }
        return body.get(field).asBoolean();
    }

    private static double number(JsonNode body, String field, double fallback, double min, double max) {
        if (!present(body, field)) {
            return fallback;
        }
        JsonNode v = body.get(field);
        if (!v.isNumber()) {
            throw ApiException.badRequest("'" + field + "' must be a number", field);
        }
        double d = v.asDouble();
        if (!(d >= min && d <= max)) {
            String low = min == Double.MIN_VALUE ? "greater than 0" : ">= " + min;
            throw ApiException.badRequest("'" + field + "' must be " + low + " and <= " + max + ", got " + d, field);
        }
        return d;
    }

    private static int intIn(JsonNode body, String field, int fallback, int min, int max) {
        if (!present(body, field)) {
            return fallback;
        }
        JsonNode v = body.get(field);
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw ApiException.badRequest("'" + field + "' must be an integer", field);
        }
        int i = v.asInt();
        if (i < min || i > max) {
            throw ApiException.badRequest("'" + field + "' must be between " + min + " and " + max + ", got " + i, field);
        }
        return i;
    }

    private static long longValue(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.badRequest("'" + field + "' must be an integer", field);
        }
        return v.asLong();
    }

    private static int topK(JsonNode body) {
        int k = intIn(body, "top_k", 0, -1, Integer.MAX_VALUE);
        return Math.max(k, 0); // -1 and 0 both mean off
    }

    private static List<String> stops(JsonNode body) {
        if (!present(body, "stop")) {
            return List.of();
        }
        JsonNode s = body.get("stop");
        if (s.isTextual()) {
            return List.of(s.asText());
        }
        if (s.isArray() && s.size() <= MAX_STOP) {
            List<String> out = new ArrayList<>();
            for (JsonNode x : s) {
                if (!x.isTextual()) {
                    throw ApiException.badRequest("'stop' must be a string or a list of strings", "stop");
                }
                out.add(x.asText());
            }
            return out;
        }
        throw ApiException.badRequest("'stop' must be a string or a list of at most " + MAX_STOP + " strings", "stop");
    }

    private static List<Integer> stopTokenIds(JsonNode body, ServedModel model) {
        if (!present(body, "stop_token_ids")) {
            return List.of();
        }
        JsonNode s = body.get("stop_token_ids");
        if (!s.isArray() || !allInts(s)) {
            throw ApiException.badRequest("'stop_token_ids' must be a list of token ids", "stop_token_ids");
        }
        List<Integer> out = new ArrayList<>();
        s.forEach(x -> out.add(x.asInt()));
        return out;
    }

    private static boolean allInts(JsonNode array) {
        for (JsonNode x : array) {
            if (!x.isIntegralNumber() || !x.canConvertToInt()) {
                return false;
            }
        }
        return true;
    }
}
