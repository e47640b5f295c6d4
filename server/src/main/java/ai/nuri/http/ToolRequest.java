package ai.nuri.http;

import ai.nuri.guide.Constraints;
import ai.nuri.guide.Grammar;
import ai.nuri.text.ToolCallFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A chat request's {@code tools}, {@code tool_choice} and {@code parallel_tool_calls}, checked:
 * what the chat template gets, whether the answer is parsed for calls, and, for {@code required}
 * or a named function, the grammar that forces a valid call in the model's own format.
 */
record ToolRequest(List<Function> functions, Choice choice, String forced, boolean parallel) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The most calls one forced answer may hold (parallel_tool_calls true, tool_choice required). */
    static final int MAX_PARALLEL_CALLS = 4;

    /** One function tool; {@code parameters} null when it takes any object. */
    record Function(String name, String description, JsonNode parameters, JsonNode definition) {}

    enum Choice { NONE, AUTO, REQUIRED, NAMED }

    static final ToolRequest NO_TOOLS = new ToolRequest(List.of(), Choice.NONE, null, true);

    static ToolRequest of(JsonNode body) {
        JsonNode tools = body.get("tools");
        JsonNode choiceNode = body.get("tool_choice");
        boolean parallel = true;
        JsonNode p = body.get("parallel_tool_calls");
        if (p != null && !p.isNull()) {
            if (!p.isBoolean()) {
                throw ApiException.badRequest("'parallel_tool_calls' must be a boolean", "parallel_tool_calls");
            }
            parallel = p.asBoolean();
        }
        if (tools == null || tools.isNull()) {
            if (choiceNode != null && !choiceNode.isNull() && !(choiceNode.isTextual() && choiceNode.asText().equals("none"))) {
                throw ApiException.badRequest("'tool_choice' is only allowed when 'tools' are given", "tool_choice");
            }
            return NO_TOOLS;
        }
        if (!tools.isArray() || tools.isEmpty()) {
            throw ApiException.badRequest("'tools' must be a list of at least one tool", "tools"); // as OpenAI: [] is refused
        }
        List<Function> functions = new ArrayList<>();
        for (int i = 0; i < tools.size(); i++) {
            functions.add(function(tools.get(i), "tools[" + i + "]"));
        }
        if (functions.stream().map(Function::name).distinct().count() != functions.size()) {
            throw ApiException.badRequest("'tools' names a function twice", "tools");
        }
        Choice choice = Choice.AUTO;
        String forced = null;
        if (choiceNode != null && !choiceNode.isNull()) {
            if (choiceNode.isTextual()) {
                choice = switch (choiceNode.asText()) {
                    case "none" -> Choice.NONE;
                    case "auto" -> Choice.AUTO;
                    case "required" -> Choice.REQUIRED;
                    default -> throw ApiException.badRequest("'tool_choice' must be none, auto, required or a named function",
                            "tool_choice");
                };
            } else if (choiceNode.isObject() && choiceNode.path("type").asText().equals("function")
                    && choiceNode.path("function").path("name").isTextual()) {
                forced = choiceNode.path("function").path("name").asText();
                String name = forced;
                if (functions.stream().noneMatch(f -> f.name().equals(name))) {
                    throw ApiException.badRequest("'tool_choice' names the function '" + forced + "', which is not in 'tools'",
                            "tool_choice");
                }
                choice = Choice.NAMED;
            } else {
                throw ApiException.badRequest("'tool_choice' must be none, auto, required or {\"type\": \"function\", "
                        + "\"function\": {\"name\": ...}}", "tool_choice");
            }
        }
        return new ToolRequest(functions, choice, forced, parallel);
    }

    private static Function function(JsonNode tool, String where) {
        if (!tool.isObject() || !tool.path("type").asText().equals("function") || !tool.path("function").isObject()) {
            throw ApiException.badRequest(where + " must be {\"type\": \"function\", \"function\": {...}}", where);
        }
        JsonNode f = tool.get("function");
        JsonNode name = f.get("name");
        if (name == null || !name.isTextual() || !name.asText().matches("[a-zA-Z0-9_-]{1,64}")) {
            throw ApiException.badRequest(where + ".function.name must be 1 to 64 letters, digits, '_' or '-'",
                    where + ".function.name");
        }
        JsonNode description = f.get("description");
        if (description != null && !description.isNull() && !description.isTextual()) {
            throw ApiException.badRequest(where + ".function.description must be a string", where + ".function.description");
        }
        JsonNode parameters = f.get("parameters");
        if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
            throw ApiException.badRequest(where + ".function.parameters must be a JSON Schema object", where + ".function.parameters");
        }
        for (var it = f.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!List.of("name", "description", "parameters", "strict").contains(k)) {
                throw ApiException.badRequest(where + ".function." + k + " is not a function field", where + ".function." + k);
            }
        }
        return new Function(name.asText(), description == null || description.isNull() ? null : description.asText(),
                parameters == null || parameters.isNull() ? null : parameters, tool);
    }

    boolean present() {
        return !functions.isEmpty();
    }

    /** Whether the answer is read for tool calls. */
    boolean parsesCalls() {
        return present() && choice != Choice.NONE;
    }

    /** The tools as the chat template receives them (plain maps and lists, as transformers passes them). */
    List<Object> templateValue() {
        List<Object> out = new ArrayList<>();
        for (Function f : functions) {
            out.add(JSON.convertValue(f.definition(), LinkedHashMap.class));
        }
        return out;
    }

    /** For {@code required} or a named function: a grammar of valid calls in {@code format}; else null. */
    Grammar constraint(ToolCallFormat format) {
        if (choice != Choice.REQUIRED && choice != Choice.NAMED) {
            return null;
        }
        List<Constraints.Wrapped> alternatives = new ArrayList<>();
        StringBuilder key = new StringBuilder(format.name()).append(parallel);
        for (Function f : functions) {
            if (choice == Choice.NAMED && !f.name().equals(forced)) {
                continue;
            }
            String nameJson = JSON.getNodeFactory().textNode(f.name()).toString();
            alternatives.add(new Constraints.Wrapped(format.callPrefix(nameJson), f.parameters(), format.callSuffix()));
            key.append('|').append(f.name()).append(':').append(f.parameters());
        }
        int maxCalls = parallel && choice == Choice.REQUIRED && format != ToolCallFormat.LLAMA3_JSON ? MAX_PARALLEL_CALLS : 1;
        return StructuredOutputs.cached("tools:" + key + maxCalls,
                () -> Constraints.sequenceOf(alternatives, format.separator(), maxCalls, "tool calls"), "tools");
    }

}
