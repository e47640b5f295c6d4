package ai.nuri.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chat template wherever transformers keeps it: in tokenizer_config.json, in
 * chat_template.json, or in chat_template.jinja; and image parts reach it as {"type": "image"}.
 */
class ChatTemplateFilesTest {
    static final Path DEMO = Path.of(System.getProperty("nuri.modelStore", "../model-store")).resolve("nuri-ko-mini");
    static final String PARTS = "{%- for m in messages %}{{ m['role'] }}:{%- if m['content'] is string %}{{ m['content'] }}"
            + "{%- else %}{%- for p in m['content'] %}{%- if p['type'] == 'image' %}[IMG]{%- else %}{{ p['text'] }}"
            + "{%- endif %}{%- endfor %}{%- endif %};{%- endfor %}";

    @Test
    void templatesBesideTheTokenizerConfigWinAndSeeImageParts(@TempDir Path dir) throws Exception {
        Files.copy(DEMO.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(DEMO.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        List<ChatMessage> chat = List.of(ChatMessage.system("짧게"), ChatMessage.withParts("user",
                List.of(ChatMessage.Part.IMAGE, new ChatMessage.Part("무엇인가요?"))));
        Files.writeString(dir.resolve("chat_template.json"),
                new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("chat_template", PARTS).toString());
        try (Tokenizer t = Tokenizer.load(dir)) {
            assertEquals("system:짧게;user:[IMG]무엇인가요?;", t.chatTemplate().orElseThrow().render(chat, false));
        }
        Files.writeString(dir.resolve("chat_template.jinja"), PARTS.replace("[IMG]", "<image>"));
        try (Tokenizer t = Tokenizer.load(dir)) {
            assertEquals("system:짧게;user:<image>무엇인가요?;", t.chatTemplate().orElseThrow().render(chat, false));
        }
    }
}
