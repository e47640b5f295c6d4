package ai.nuri.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a model writes tool calls, as its chat template teaches it: Hermes ({@code <tool_call>} JSON
 * {@code </tool_call>}, used by Qwen, Hermes and Nuri's own models) or Llama 3.1's bare JSON object
 * with {@code name} and {@code parameters}. Parses a finished answer into content and calls, says
 * how much of a streaming answer is surely content, and gives the literal text around a call's
 * arguments, so that a forced call can be constrained to the model's own format.
 */
public enum ToolCallFormat {
    HERMES {
        private static final Pattern CALL = Pattern.compile("<tool_call>\\s*(.*?)\\s*</tool_call>", Pattern.DOTALL);

        @Override
        public Parsed parse(String text) {
            int start = text.indexOf(OPEN);
            if (start < 0) {
                return new Parsed(text, List.of());
            }
            List<ToolCall> calls = new ArrayList<>();
            Matcher m = CALL.matcher(text);
            while (m.find()) {
                ToolCall call = call(m.group(1), "arguments");
                if (call == null) {
                    return new Parsed(text, List.of()); // not a well-formed call: the text stays as it is
                }
                calls.add(call);
            }
            if (calls.isEmpty()) {
                return new Parsed(text, List.of());
            }
            String content = text.substring(0, start).strip();
            return new Parsed(content.isEmpty() ? null : content, calls);
        }

        @Override
        public int contentEnd(String text) {
            int start = text.indexOf(OPEN);
            if (start >= 0) {
                return start;
            }
            for (int keep = Math.min(OPEN.length() - 1, text.length()); keep > 0; keep--) {
                if (OPEN.startsWith(text.substring(text.length() - keep))) {
                    return text.length() - keep; // could be the start of "<tool_call>"
                }
            }
            return text.length();
        }

        @Override
        public String callPrefix(String nameJson) {
            return OPEN + "\n{\"name\": " + nameJson + ", \"arguments\": ";
        }

        @Override
        public String callSuffix() {
            return "}\n</tool_call>";
        }

        @Override
        public String separator() {
            return "\n";
        }
    },

    LLAMA3_JSON {
        private static final String PYTHON_TAG = "<|python_tag|>";

        @Override
        public Parsed parse(String text) {
            String t = text.strip();
            if (t.startsWith(PYTHON_TAG)) {
                t = t.substring(PYTHON_TAG.length()).strip();
            }
            if (!t.startsWith("{")) {
                return new Parsed(text, List.of());
            }
            List<ToolCall> calls = new ArrayList<>();
            for (String part : t.split(";(?=\\s*\\{)")) {
                ToolCall call = call(part.strip(), "parameters");
                if (call == null) {
                    call = call(part.strip(), "arguments");
                }
                if (call == null) {
                    return new Parsed(text, List.of());
                }
                calls.add(call);
            }
            return new Parsed(null, calls);
        }

        @Override
        public int contentEnd(String text) {
            String t = text.stripLeading();
            boolean maybeCall = t.isEmpty() || t.startsWith("{") || t.startsWith(PYTHON_TAG) || PYTHON_TAG.startsWith(t);
            return maybeCall ? 0 : text.length();
        }

        @Override
        public String callPrefix(String nameJson) {
            return "{\"name\": " + nameJson + ", \"parameters\": ";
        }

        @Override
        public String callSuffix() {
            return "}";
        }

        @Override
        public String separator() {
            return "; ";
        }
    };

    private static final String OPEN = "<tool_call>";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An answer split into its content (null if none) and its tool calls. */
    public record Parsed(String content, List<ToolCall> calls) {}

    /** The content and calls of a finished answer; text that is not a well-formed call stays content. */
    public abstract Parsed parse(String text);

    /** How many leading chars of an unfinished answer are surely content (not the start of a call). */
    public abstract int contentEnd(String text);

    /** The text before a call's arguments, {@code nameJson} being the function name as a JSON string. */
    public abstract String callPrefix(String nameJson);

    /** The text after a call's arguments. */
    public abstract String callSuffix();

    /** Between two calls. */
    public abstract String separator();

    /** The format a chat template teaches: Llama 3.1's where the template speaks of "parameters" and ipython, else Hermes. */
    public static ToolCallFormat of(String templateSource) {
        if (templateSource != null && !templateSource.contains(OPEN)
                && (templateSource.contains("<|python_tag|>") || templateSource.contains("\"parameters\": "))) {
            return LLAMA3_JSON;
        }
        return HERMES;
    }

    private static ToolCall call(String json, String argumentsField) {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null || !n.isObject() || !n.path("name").isTextual() || !n.has(argumentsField)) {
                return null;
            }
            JsonNode args = n.get(argumentsField);
            if (args.isTextual()) {
                args = JSON.readTree(args.asText()); // arguments given as JSON text must be JSON, or it is no call
            }
            if (args == null || !args.isObject()) {
                return null;
            }
            String arguments = JSON.writeValueAsString(args);
            return new ToolCall("call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24),
                    n.get("name").asText(), arguments);
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
