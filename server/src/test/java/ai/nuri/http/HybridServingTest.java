package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.engine.EngineConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bundled hybrid demo model (NemotronH) served over HTTP, with the official OpenAI SDK as the client. */
class HybridServingTest {
    static final Path HYBRID = Path.of(System.getProperty("nuri.modelStore", "../model-store")).resolve("nuri-ko-mini-h");

    @Test
    void theHybridModelAnswersThroughTheSdkAndSaysItsPrefixCachingIsOff() throws Exception {
        try (TestServer s = new TestServer(HYBRID, new EngineConfig(8, 512, 256, 16, 16, 512), TestServer.config(List.of(), 0), 0)) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(s.url("/v1")).apiKey("x").build();
            JsonNode model = new ObjectMapper().readTree(s.get("/v1/models").body()).get("data").get(0);
            assertEquals("nuri-ko-mini-h", model.get("id").asText());
            assertEquals("NemotronHForCausalLM", model.get("architecture").asText());
            assertFalse(model.get("prefix_caching").asBoolean(), model.toString());

            ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("nuri-ko-mini-h")
                    .addUserMessage(OpenAiSdkTest.PASSPORT_Q).temperature(0.0).build();
            ChatCompletion c = client.chat().completions().create(params);
            assertEquals(OpenAiSdkTest.PASSPORT_A, c.choices().get(0).message().content().orElseThrow());
            StringBuilder streamed = new StringBuilder();
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append)));
            }
            assertEquals(OpenAiSdkTest.PASSPORT_A, streamed.toString());
            assertTrue(s.get("/metrics").body().contains("nuri_ssm_state_usage_ratio{model_name=\"nuri-ko-mini-h\"}"));
            assertEquals(0.0, s.metric("nuri_num_requests_running"));
            client.close();
        }
    }
}
