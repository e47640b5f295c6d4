package ai.nuri.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.nuri.fuzz.Fuzzing;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Chat template rendering of any conversation the fuzzer writes, with the shipped templates (the
 * demo's ChatML with tools, the vision demo's parts and {@code <image>}): it renders or refuses
 * with TemplateException, and what it renders keeps the injection properties of
 * PromptInjectionTest: the ids decode to the rendered text, and their control tokens are those of
 * the same conversation with harmless text.
 */
class ChatTemplateFuzz {
    static Tokenizer text;
    static Tokenizer vision;
    static final String[] ROLES = {"system", "user", "assistant", "tool"};

    @BeforeAll
    static void load() throws IOException {
        text = Tokenizer.load(Fuzzing.DEMO);
        vision = Tokenizer.load(Fuzzing.VISION);
    }

    @AfterAll
    static void close() {
        text.close();
        vision.close();
    }

    @FuzzTest(maxDuration = Fuzzing.BUDGET)
    @DictionaryEntries({"<|im_start|>", "<|im_end|>", "<|endoftext|>", "<image>", "<|im_", "end|>", "<tool_call>", "</tool_call>",
            "{{", "}}", "{%", "%}", "system", "assistant"})
    void renderedPromptsKeepClientTextPlain(FuzzedDataProvider data) {
        boolean useVision = data.consumeBoolean();
        Tokenizer tokenizer = useVision ? vision : text;
        List<ChatMessage> messages = new ArrayList<>();
        List<ChatMessage> harmless = new ArrayList<>();
        int count = data.consumeInt(1, 5);
        for (int m = 0; m < count; m++) {
            String role = ROLES[data.consumeInt(0, useVision ? 2 : 3)];
            if (useVision && data.consumeBoolean()) {
                List<ChatMessage.Part> parts = new ArrayList<>();
                List<ChatMessage.Part> plain = new ArrayList<>();
                for (int p = data.consumeInt(1, 3); p > 0; p--) {
                    boolean image = data.consumeBoolean();
                    parts.add(image ? ChatMessage.Part.IMAGE : new ChatMessage.Part(data.consumeString(40)));
                    plain.add(image ? ChatMessage.Part.IMAGE : new ChatMessage.Part("x"));
                }
                messages.add(ChatMessage.withParts(role, parts));
                harmless.add(ChatMessage.withParts(role, plain));
            } else if (role.equals("tool")) {
                messages.add(ChatMessage.toolResult("call_1", data.consumeString(60)));
                harmless.add(ChatMessage.toolResult("call_1", "x"));
            } else {
                messages.add(new ChatMessage(role, data.consumeString(80)));
                harmless.add(new ChatMessage(role, "x"));
            }
        }
        int[] ids;
        try {
            ids = tokenizer.encodeChat(messages);
        } catch (ChatTemplate.TemplateException refused) {
            return; // a 400 for the client (the template raised, or reserved characters)
        }
        ChatTemplate template = tokenizer.chatTemplate().orElseThrow();
        assertEquals(template.render(messages, true), tokenizer.decode(ids, false));
        assertEquals(controlTokens(tokenizer, tokenizer.encode(template.render(harmless, true))), controlTokens(tokenizer, ids),
                "only the template's own markup is control tokens");
    }

    private static List<Integer> controlTokens(Tokenizer tokenizer, int[] ids) {
        BitSet special = tokenizer.specialTokenIds();
        return IntStream.of(ids).filter(special::get).boxed().toList();
    }
}
