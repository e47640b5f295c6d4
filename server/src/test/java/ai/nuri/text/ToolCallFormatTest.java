package ai.nuri.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading tool calls out of answers, in both formats, and holding back streamed text that may start one. */
class ToolCallFormatTest {
    @Test
    void hermesCallsAreParsedAndTheTextBeforeThemIsContent() {
        ToolCallFormat.Parsed p = ToolCallFormat.HERMES.parse("확인해 볼게요.\n<tool_call>\n{\"name\": \"weather\", \"arguments\": "
                + "{\"city\": \"부산\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"visit\", \"arguments\": {\"day\": 3}}\n</tool_call>");
        assertEquals("확인해 볼게요.", p.content());
        assertEquals(2, p.calls().size());
        assertEquals("weather", p.calls().get(0).name());
        assertEquals("{\"city\":\"부산\"}", p.calls().get(0).arguments(), "compact JSON, Hangul unescaped");
        assertEquals("{\"day\":3}", p.calls().get(1).arguments());
        assertTrue(p.calls().get(0).id().startsWith("call_") && !p.calls().get(0).id().equals(p.calls().get(1).id()));
        ToolCallFormat.Parsed only = ToolCallFormat.HERMES.parse("<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>");
        assertNull(only.content());
    }

    @Test
    void malformedCallsStayText() {
        for (String text : List.of("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": </tool_call>", "<tool_call>\n{\"name\": \"f\"",
                "그냥 답입니다.", "<tool_call>{\"arguments\": {}}</tool_call>",
                "<tool_call>{\"name\": \"f\", \"arguments\": \"oops\"}</tool_call>")) {
            ToolCallFormat.Parsed p = ToolCallFormat.HERMES.parse(text);
            assertEquals(text, p.content());
            assertTrue(p.calls().isEmpty());
        }
    }

    @Test
    void streamingHoldsBackWhatMayStartACall() {
        assertEquals(5, ToolCallFormat.HERMES.contentEnd("안녕하세요<tool"));
        assertEquals(3, ToolCallFormat.HERMES.contentEnd("답은 <tool_call>{"));
        assertEquals(7, ToolCallFormat.HERMES.contentEnd("a < b c"), "a '<' followed by other text is content");
        assertEquals(6, ToolCallFormat.HERMES.contentEnd("a < b <"));
        assertEquals(0, ToolCallFormat.LLAMA3_JSON.contentEnd("  {\"name\""));
        assertEquals(0, ToolCallFormat.LLAMA3_JSON.contentEnd("<|python"));
        assertEquals(4, ToolCallFormat.LLAMA3_JSON.contentEnd("네, 알"));
    }

    @Test
    void llamaJsonCallsAreParsed() {
        ToolCallFormat.Parsed p = ToolCallFormat.LLAMA3_JSON.parse("<|python_tag|>{\"name\": \"weather\", \"parameters\": {\"city\": \"서울\"}}");
        assertEquals("weather", p.calls().get(0).name());
        assertEquals("{\"city\":\"서울\"}", p.calls().get(0).arguments());
        assertNull(p.content());
        assertEquals(2, ToolCallFormat.LLAMA3_JSON.parse("{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {}}")
                .calls().size());
        assertTrue(ToolCallFormat.LLAMA3_JSON.parse("{\"note\": 1}").calls().isEmpty());
    }

    @Test
    void theFormatFollowsTheTemplate() {
        // Fragments of the real templates: Llama 3.1 asks for {"name": ..., "parameters": ...} and mentions <|python_tag|>.
        assertEquals(ToolCallFormat.LLAMA3_JSON, ToolCallFormat.of("{{- '{\"name\": function name, \"parameters\": dictionary of "
                + "argument name and its value}' }}{%- if message.tool_calls %}{{- '<|python_tag|>' }}"));
        assertEquals(ToolCallFormat.HERMES, ToolCallFormat.of("{{- '<tool_call>\\n{\"name\": <function-name>, \"arguments\": "
                + "<args-json-object>}\\n</tool_call>' }}"));
        assertEquals(ToolCallFormat.HERMES, ToolCallFormat.of(null));
    }

    @Test
    void aLlamaStyleTemplateGetsToolsAndCallsAsTransformersPassesThem() {
        String template = "{%- if tools %}{% for t in tools %}{{ t.function.name }}:{{ t.function.parameters | tojson }}\n{% endfor %}"
                + "{%- endif %}{%- for m in messages %}{%- if m.tool_calls %}{% for c in m.tool_calls %}"
                + "{{ '{\"name\": \"' + c.function.name + '\", \"parameters\": ' + (c.function.arguments | tojson) + '}' }}"
                + "{% endfor %}{%- elif m.role == 'tool' %}[{{ m.tool_call_id }}] {{ m.content }}{%- else %}{{ m.role }}: {{ m.content }}"
                + "{%- endif %}{{ '\\n' }}{%- endfor %}";
        ChatTemplate t = new ChatTemplate(template, null, null);
        Map<String, Object> tool = Map.of("type", "function", "function", Map.of("name", "weather", "parameters",
                Map.of("type", "object")));
        String out = t.render(List.of(ChatMessage.user("날씨?"),
                ChatMessage.assistantCalls(null, List.of(new ToolCall("call_1", "weather", "{\"city\": \"부산\"}"))),
                ChatMessage.toolResult("call_1", "맑음")), false, Map.of("tools", List.of(tool)));
        assertEquals("weather:{\"type\": \"object\"}\nuser: 날씨?\n{\"name\": \"weather\", \"parameters\": {\"city\": \"부산\"}}\n"
                + "[call_1] 맑음\n", out);
    }
}
