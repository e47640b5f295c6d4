package ai.nuri.http;

import ai.nuri.guide.Constraints;
import ai.nuri.guide.Grammar;
import ai.nuri.guide.GuideException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The output constraints a request asks for, compiled (and cached by their text, so a schema sent
 * again costs a lookup and its token masks are shared): OpenAI's {@code response_format}
 * ({@code text}, {@code json_object}, {@code json_schema}) and vLLM's {@code structured_outputs}
 * ({@code json}, {@code regex} or {@code choice}). A constraint that cannot be compiled is a 400
 * naming the field and the keyword.
 */
final class StructuredOutputs {
    private static final Map<String, Grammar> CACHE = Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Grammar> eldest) {
            return size() > 256;
        }
    });

    private StructuredOutputs() {}

    /** The constraint of {@code response_format} or {@code structured_outputs}; null for none. */
    static Grammar of(JsonNode body) {
        JsonNode rf = body.get("response_format");
        JsonNode so = body.get("structured_outputs");
        boolean hasRf = rf != null && !rf.isNull();
        boolean hasSo = so != null && !so.isNull();
        if (hasRf && hasSo) {
            throw ApiException.badRequest("use either 'response_format' or 'structured_outputs', not both", "structured_outputs");
        }
        if (hasRf) {
            return responseFormat(rf);
        }
        return hasSo ? structuredOutputs(so) : null;
    }

    private static Grammar responseFormat(JsonNode rf) {
        if (!rf.isObject() || !rf.path("type").isTextual()) {
            throw ApiException.badRequest("'response_format' must be an object with a 'type'", "response_format");
        }
        return switch (rf.get("type").asText()) {
            case "text" -> null;
            case "json_object" -> cached("json_object", Constraints::jsonObject, "response_format");
            case "json_schema" -> {
                JsonNode js = rf.get("json_schema");
                if (js == null || !js.isObject()) {
                    throw ApiException.badRequest("'response_format.json_schema' must be an object", "response_format.json_schema");
                }
                JsonNode name = js.get("name");
                if (name == null || !name.isTextual() || !name.asText().matches("[a-zA-Z0-9_-]{1,64}")) {
                    throw ApiException.badRequest("'response_format.json_schema.name' must be 1 to 64 letters, digits, '_' or '-'",
                            "response_format.json_schema.name");
                }
                JsonNode schema = js.get("schema");
                if (schema == null || !schema.isObject()) {
                    throw ApiException.badRequest("'response_format.json_schema.schema' must be a JSON Schema object",
                            "response_format.json_schema.schema");
                }
                yield cached("json_schema:" + schema, () -> Constraints.jsonSchema(schema, name.asText()),
                        "response_format.json_schema.schema");
            }
            default -> throw ApiException.badRequest("'response_format.type' must be text, json_object or json_schema",
                    "response_format.type");
        };
    }

    private static Grammar structuredOutputs(JsonNode so) {
        if (!so.isObject() || so.size() != 1) {
            throw ApiException.badRequest("'structured_outputs' must be an object with exactly one of json, regex, choice",
                    "structured_outputs");
        }
        String kind = so.fieldNames().next();
        JsonNode v = so.get(kind);
        String param = "structured_outputs." + kind;
        return switch (kind) {
            case "json" -> {
                if (!v.isObject()) {
                    throw ApiException.badRequest("'" + param + "' must be a JSON Schema object", param);
                }
                yield cached("json_schema:" + v, () -> Constraints.jsonSchema(v, "structured_outputs"), param);
            }
            case "regex" -> {
                if (!v.isTextual()) {
                    throw ApiException.badRequest("'" + param + "' must be a string", param);
                }
                yield cached("regex:" + v.asText(), () -> Constraints.regex(v.asText()), param);
            }
            case "choice" -> {
                if (!v.isArray() || v.isEmpty()) {
                    throw ApiException.badRequest("'" + param + "' must be a non-empty list of strings", param);
                }
                List<String> options = new ArrayList<>();
                for (JsonNode o : v) {
                    if (!o.isTextual() || o.asText().isEmpty()) {
                        throw ApiException.badRequest("'" + param + "' must be a non-empty list of non-empty strings", param);
                    }
                    options.add(o.asText());
                }
                yield cached("choice:" + v, () -> Constraints.choice(options), param);
            }
            default -> throw ApiException.badRequest("'structured_outputs." + kind + "' is not supported (use json, regex or choice)",
                    "structured_outputs");
        };
    }

    /** Compiles once per distinct constraint text; a compile error becomes a 400 for {@code param}. */
    static Grammar cached(String key, Supplier<Grammar> compile, String param) {
        Grammar g = CACHE.get(key);
        if (g != null) {
            return g;
        }
        try {
            g = compile.get();
        } catch (GuideException e) {
            String where = e.keyword() == null ? param : param + " (" + e.keyword() + ")";
            throw ApiException.badRequest("Invalid " + where + ": " + e.getMessage(), param);
        }
        CACHE.put(key, g);
        return g;
    }
}
