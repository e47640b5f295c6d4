package ai.nuri.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A Hugging Face chat template ({@code chat_template} of tokenizer_config.json) rendered with
 * Jinjava set up to behave like transformers' Jinja2 environment: trim_blocks and lstrip_blocks,
 * strict whitespace control, Python string methods, {@code raise_exception} and a Python-style
 * {@code tojson}. A template that raises or fails to render throws {@link TemplateException}.
 */
public final class ChatTemplate {
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;

    public ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = source;
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.jinjava = newJinjava();
    }

    private static Jinjava newJinjava() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(new PythonStringMethods())
                .withFailOnUnknownTokens(false)
                // Jinjava's default renders template syntax found inside values ("{{ 7*7 }}" in a message
                // became "49"): message text is data, never evaluated.
                .withNestedInterpretationEnabled(false)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withParseWhitespaceControlStrictly(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withKeepNullableLoopValues(true)
                        .withAllowAdjacentTextNodes(true)
                        .build())
                .build();
        Jinjava j = new Jinjava(config);
        try {
            j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                    ChatTemplate.class.getDeclaredMethod("raiseException", String.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        j.getGlobalContext().registerFilter(new Filter() {
            @Override
            public String getName() {
                return "tojson";
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
                return PythonJson.dumps(var);
            }
        });
        return j;
    }

    /** Called by templates as {@code raise_exception('...')}: the message reaches the caller. */
    public static String raiseException(String message) {
        throw new TemplateException(message);
    }

    public String source() {
        return source;
    }

    /**
     * Renders the conversation; with {@code addGenerationPrompt} the text ends where the
     * assistant's reply begins.
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        return render(messages, addGenerationPrompt, extra, UnaryOperator.identity(), UnaryOperator.identity());
    }

    /**
     * As {@link #render(List, boolean, Map)}, with what came from the client passed through the
     * fence first: message text (string content, text parts) through {@code clientText}; tool calls,
     * tool call ids and the extra variables (tool definitions) through {@code clientValues}. Roles
     * and part types are the server's own (validated) and pass as they are.
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> extra,
            UnaryOperator<String> clientText, UnaryOperator<Object> clientValues) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            if (m.parts() == null) {
                map.put("content", m.content() == null ? null : clientText.apply(m.content()));
            } else {
                List<Map<String, Object>> parts = new ArrayList<>();
                for (ChatMessage.Part part : m.parts()) {
                    Map<String, Object> p = new LinkedHashMap<>();
                    p.put("type", part.isImage() ? "image" : "text");
                    if (!part.isImage()) {
                        p.put("text", clientText.apply(part.text()));
                    }
                    parts.add(p);
                }
                map.put("content", parts);
            }
            if (!m.toolCalls().isEmpty()) {
                // As transformers expects (and vLLM passes): arguments as a mapping, not JSON text.
                List<Map<String, Object>> calls = new ArrayList<>();
                for (ToolCall call : m.toolCalls()) {
                    Map<String, Object> function = new LinkedHashMap<>();
                    function.put("name", clientValues.apply(call.name()));
                    function.put("arguments", clientValues.apply(PythonJson.parse(call.arguments())));
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("id", clientValues.apply(call.id()));
                    c.put("type", "function");
                    c.put("function", function);
                    calls.add(c);
                }
                map.put("tool_calls", calls);
            }
            if (m.toolCallId() != null) {
                map.put("tool_call_id", clientValues.apply(m.toolCallId()));
            }
            list.add(map);
        }
        Map<String, Object> context = new HashMap<>();
        extra.forEach((k, v) -> context.put(k, clientValues.apply(v)));
        context.put("messages", list);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        RenderResult result;
        try {
            result = jinjava.renderForResult(source, context);
        } catch (TemplateException e) {
            throw e;
        } catch (RuntimeException e) {
            Throwable cause = e;
            while (cause != null) {
                if (cause instanceof TemplateException te) {
                    throw te;
                }
                cause = cause.getCause();
            }
            throw new TemplateException("chat template failed: " + e.getMessage());
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getException() != null) {
                Throwable cause = error.getException();
                while (cause != null) {
                    if (cause instanceof TemplateException te) {
                        throw te;
                    }
                    cause = cause.getCause();
                }
            }
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new TemplateException("chat template failed: " + error.getMessage());
            }
        }
        return result.getOutput();
    }

    /** The template could not render these messages (the template raised, or is broken). */
    public static final class TemplateException extends RuntimeException {
        public TemplateException(String message) {
            super(message);
        }
    }
}
