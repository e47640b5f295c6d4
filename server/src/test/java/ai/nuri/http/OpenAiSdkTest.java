package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK against a real Nuri server. */
class OpenAiSdkTest {
    static final String PASSPORT_Q = "여권 재발급은 어디서 하나요?";
    static final String PASSPORT_A = "여권 재발급은 가까운 시청, 구청, 도청의 여권 민원실에서 신청할 수 있습니다. 신분증과 여권 사진을 준비하세요.";

    static TestServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer();
        client = OpenAIOkHttpClient.builder().baseUrl(server.url("/v1")).apiKey("not-needed").build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    private static ChatCompletionCreateParams.Builder chat(String question) {
        return ChatCompletionCreateParams.builder().model("nuri-ko-mini").addUserMessage(question).temperature(0.0);
    }

    @Test
    void listsTheModel() {
        List<Model> models = client.models().list().data();
        assertEquals(List.of("nuri-ko-mini"), models.stream().map(Model::id).toList());
    }

    @Test
    void chatCompletionCarriesTheKoreanAnswerAndUsage() {
        ChatCompletion c = client.chat().completions().create(chat(PASSPORT_Q).build());
        assertEquals(PASSPORT_A, c.choices().get(0).message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
        assertEquals(13, c.usage().orElseThrow().promptTokens());
        assertEquals(c.usage().orElseThrow().promptTokens() + c.usage().orElseThrow().completionTokens(),
                c.usage().orElseThrow().totalTokens());
        assertTrue(c.id().startsWith("chatcmpl-"));
    }

    @Test
    void streamingDeltasAddUpToTheAnswerWithRoleFirstAndUsageLast() {
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat(PASSPORT_Q)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunks::add);
        }
        assertTrue(chunks.size() > 5, "streamed in many chunks: " + chunks.size());
        assertEquals(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT, chunks.get(0).choices().get(0).delta().role().orElseThrow());
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (ChatCompletionChunk c : chunks) {
            for (ChatCompletionChunk.Choice ch : c.choices()) {
                ch.delta().content().ifPresent(text::append);
                if (ch.finishReason().isPresent()) {
                    finish = ch.finishReason().get().asString();
                }
            }
        }
        assertEquals(PASSPORT_A, text.toString());
        assertEquals("stop", finish);
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.choices().isEmpty());
        assertEquals(13, last.usage().orElseThrow().promptTokens());
    }

    @Test
    void nChoicesSeedAndStop() {
        ChatCompletionCreateParams sampled = ChatCompletionCreateParams.builder().model("nuri-ko-mini")
                .addUserMessage("교통카드는 어디서 사나요?").temperature(1.0).n(3).seed(11).build();
        ChatCompletion a = client.chat().completions().create(sampled);
        ChatCompletion b = client.chat().completions().create(sampled);
        assertEquals(3, a.choices().size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, a.choices().get(i).index());
            assertEquals(a.choices().get(i).message().content(), b.choices().get(i).message().content(), "seeded choice " + i);
        }
        ChatCompletion stopped = client.chat().completions().create(chat("기상콜센터 번호는 무엇인가요?").stop("131").build());
        assertEquals("기상콜센터 번호는 ", stopped.choices().get(0).message().content().orElseThrow());
    }

    @Test
    void completionsTakeTextAndStream() {
        String prompt = "<|im_start|>user\n" + PASSPORT_Q + "<|im_end|>\n<|im_start|>assistant\n";
        Completion c = client.completions().create(CompletionCreateParams.builder().model("nuri-ko-mini").prompt(prompt)
                .maxTokens(64).temperature(0.0).build());
        assertEquals(PASSPORT_A, c.choices().get(0).text());
        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> s = client.completions().createStreaming(CompletionCreateParams.builder()
                .model("nuri-ko-mini").prompt(prompt).maxTokens(5).temperature(0.0).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> streamed.append(ch.text())));
        }
        assertTrue(PASSPORT_A.startsWith(streamed.toString()) && !streamed.isEmpty(), streamed.toString());
    }
}
