package ai.nuri.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Chat templates in the shapes real models ship, each compared with the exact text Python's
 * Jinja2 (trim_blocks, lstrip_blocks, as transformers configures it) produces, derived by hand.
 */
class ChatTemplateTest {
    private static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("너는 친절한 공공 서비스 도우미야."),
            ChatMessage.user("여권은 어디서 만들어요?"),
            ChatMessage.assistant("구청 여권 민원실에서 만들 수 있어요."),
            ChatMessage.user("고마워요!"));

    @Test
    void chatml() {
        String t = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
                + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        ChatTemplate template = new ChatTemplate(t, null, "<|im_end|>");
        assertEquals("<|im_start|>system\n너는 친절한 공공 서비스 도우미야.<|im_end|>\n"
                + "<|im_start|>user\n여권은 어디서 만들어요?<|im_end|>\n"
                + "<|im_start|>assistant\n구청 여권 민원실에서 만들 수 있어요.<|im_end|>\n"
                + "<|im_start|>user\n고마워요!<|im_end|>\n<|im_start|>assistant\n", template.render(CONVERSATION, true));
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n안녕<|im_end|>\n",
                template.render(List.of(ChatMessage.user("안녕")), false));
    }

    @Test
    void llama3() {
        String t = "{% set loop_messages = messages %}{% for message in loop_messages %}"
                + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
                + "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
                + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
        ChatTemplate template = new ChatTemplate(t, "<|begin_of_text|>", "<|eot_id|>");
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n너는 도우미야.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\n안녕?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                template.render(List.of(ChatMessage.system("너는 도우미야."), ChatMessage.user("  안녕?\n")), true));
    }

    @Test
    void nemotronMiniWithToolsAndPythonStringMethods() {
        String t = "{{'<extra_id_0>System'}}{% for message in messages %}{% if message['role'] == 'system' %}"
                + "{{'\\n' + message['content'].strip()}}{% if tools or contexts %}{{'\\n'}}{% endif %}{% endif %}"
                + "{% endfor %}{% if tools %}{% for tool in tools %}{{ '\\n<tool> ' + tool|tojson + ' </tool>' }}"
                + "{% endfor %}{% endif %}{% if contexts %}{% if tools %}{{'\\n'}}{% endif %}{% for context in contexts %}"
                + "{{ '\\n<context> ' + context.strip() + ' </context>' }}{% endfor %}{% endif %}{{'\\n\\n'}}"
                + "{% for message in messages %}{% if message['role'] == 'user' %}"
                + "{{ '<extra_id_1>User\\n' + message['content'].strip() + '\\n' }}"
                + "{% elif message['role'] == 'assistant' %}{{ '<extra_id_1>Assistant\\n' + message['content'].strip() + '\\n' }}"
                + "{% endif %}{% endfor %}{%- if add_generation_prompt %}{{'<extra_id_1>Assistant\\n'}}{%- endif %}";
        ChatTemplate template = new ChatTemplate(t, "<s>", "</s>");
        Map<String, Object> tool = new java.util.LinkedHashMap<>();
        tool.put("name", "날씨");
        tool.put("parameters", Map.of("도시", "서울"));
        tool.put("required", List.of("도시", 1, true));
        String out = template.render(List.of(ChatMessage.system("  시스템 안내  "), ChatMessage.user(" 오늘 날씨는? ")), true,
                Map.of("tools", List.of(tool)));
        assertEquals("<extra_id_0>System\n시스템 안내\n\n<tool> {\"name\": \"날씨\", \"parameters\": {\"도시\": \"서울\"}, "
                + "\"required\": [\"도시\", 1, true]} </tool>\n\n<extra_id_1>User\n오늘 날씨는?\n<extra_id_1>Assistant\n", out);
    }

    @Test
    void exaone() {
        String t = "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
                + "{{ '[|system|][|endofturn|]\\n' }}{% endif %}{{ '[|' + message['role'] + '|]' + message['content'] }}"
                + "{% if message['role'] == 'user' %}{{ '\\n' }}{% else %}{{ '[|endofturn|]\\n' }}{% endif %}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '[|assistant|]' }}{% endif %}";
        ChatTemplate template = new ChatTemplate(t, null, "[|endofturn|]");
        assertEquals("[|system|][|endofturn|]\n[|user|]서울 날씨?\n[|assistant|]맑아요.[|endofturn|]\n[|user|]고마워\n[|assistant|]",
                template.render(List.of(ChatMessage.user("서울 날씨?"), ChatMessage.assistant("맑아요."),
                        ChatMessage.user("고마워")), true));
    }

    @Test
    void blockWhitespaceIsTrimmedAsJinja2Does() {
        String t = "{% for message in messages %}\n    {% if message.role == 'user' %}\nU: {{ message.content }}\n"
                + "    {% else %}\nA: {{ message.content }}\n    {% endif %}\n{% endfor %}\n{%- if add_generation_prompt -%}\n  A:\n{%- endif %}";
        ChatTemplate template = new ChatTemplate(t, null, null);
        assertEquals("U: 가\nA: 나\nA:", template.render(List.of(ChatMessage.user("가"), ChatMessage.assistant("나")), true));
    }

    @Test
    void pythonStringMethods() {
        ChatTemplate template = new ChatTemplate("{{ messages[0].content.upper() }}|{{ messages[0].content.split(',') | join('+') }}|"
                + "{{ messages[0].content.startswith('a') }}|{{ messages[0].content.endswith(('x', 'c')) }}|"
                + "{{ '  pad '.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ 'hello world'.title() }}|{{ 'a-b'.replace('-', '=') }}",
                null, null);
        assertEquals("A,B,C|a+b+c|true|true|  pad|hi|Hello World|a=b", template.render(List.of(ChatMessage.user("a,b,c")), false));
    }

    @Test
    void raiseExceptionReachesTheCaller() {
        ChatTemplate template = new ChatTemplate("{% if messages[0]['role'] == 'assistant' %}"
                + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}ok",
                null, null);
        assertEquals("ok", template.render(List.of(ChatMessage.user("hi")), false));
        ChatTemplate.TemplateException e = assertThrows(ChatTemplate.TemplateException.class,
                () -> template.render(List.of(ChatMessage.assistant("hi")), false));
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }
}
