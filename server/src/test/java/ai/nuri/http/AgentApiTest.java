package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.guide.RandomSchemas;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.StructuredChatCompletion;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Structured outputs and tool calling through the API, with the official OpenAI Java SDK as the client where it can be. */
class AgentApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static TestServer server;
    static OpenAIClient client;

    public enum City { 서울, 부산, 대전 }

    /** Structured output by class, as the SDK's users write it (Hangul enum constants are Java identifiers). */
    public static class Office {
        public City city;
        public int floor;
        public boolean open;
    }

    /** A tool by class: the SDK names it GetWeather and derives its parameters. */
    public static class GetWeather {
        public City city;
        public boolean tomorrow;
    }

    public static class BookVisit {
        public City city;
        public int day;
    }

    @BeforeAll
    static void start() throws Exception {
        // The demo tokenizer spells English JSON almost a byte per token, so one tool definition takes ~400 of the
        // demo model's 512 positions. The engine is given 1024 here (rotary positions extend); what is tested is
        // the server's guarantee, which holds whatever the model makes of positions it was not trained on.
        server = new TestServer(new ai.nuri.engine.EngineConfig(16, 1024, 1024, 16, 64, 1024), TestServer.config(List.of(), 0));
        client = OpenAIOkHttpClient.builder().baseUrl(server.url("/v1")).apiKey("not-needed").build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    @Test
    void theSdksStructuredOutputByClassParses() {
        StructuredChatCompletionCreateParams<Office> params = ChatCompletionCreateParams.builder().model("nuri-ko-mini")
                .addUserMessage("여권 민원실은 어디에 있나요?").temperature(0.0).responseFormat(Office.class).build();
        StructuredChatCompletion<Office> c = client.chat().completions().create(params);
        Office office = c.choices().get(0).message().content().orElseThrow();
        assertTrue(office.city != null, "the enum field was filled");
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
    }

    @Test
    void randomSchemasThroughHttpValidateStreamedAndNot() throws Exception {
        SplittableRandom r = new SplittableRandom(41);
        for (int i = 0; i < 6; i++) {
            ObjectNode schema = RandomSchemas.schema(r, 2);
            ObjectNode body = JSON.createObjectNode().put("model", "nuri-ko-mini").put("temperature", 1.0).put("seed", i)
                    .put("max_tokens", 400);
            body.putArray("messages").addObject().put("role", "user").put("content", "JSON으로 답하세요.");
            ObjectNode rf = body.putObject("response_format").put("type", "json_schema");
            rf.putObject("json_schema").put("name", "answer").put("strict", true).set("schema", schema);
            JsonNode reply = JSON.readTree(server.post("/v1/chat/completions", body.toString()).body());
            String text = reply.at("/choices/0/message/content").asText();
            assertTrue(RandomSchemas.validate(schema, text).isEmpty(), schema + "\n" + text);
            body.put("stream", true);
            String streamed = ServingBehaviourTest.readStream(server.http.send(ServingBehaviourTest.streamRequest(server,
                    body.toString()), HttpResponse.BodyHandlers.ofInputStream()).body());
            assertEquals(text, streamed, "the same seed gives the same text, streamed or not");
        }
    }

    @Test
    void jsonObjectModeAndVllmStyleChoiceAndRegex() throws Exception {
        JsonNode obj = JSON.readTree(server.post("/v1/chat/completions", TestServer.chatBody("안녕하세요.",
                "\"response_format\":{\"type\":\"json_object\"},\"temperature\":1,\"seed\":5,\"max_tokens\":300")).body());
        String text = obj.at("/choices/0/message/content").asText();
        if (obj.at("/choices/0/finish_reason").asText().equals("stop")) {
            assertTrue(JSON.readTree(text).isObject(), text);
        } else {
            assertTrue(text.startsWith("{"), text);
        }
        JsonNode choice = JSON.readTree(server.post("/v1/chat/completions", TestServer.chatBody("어느 도시?",
                "\"structured_outputs\":{\"choice\":[\"서울\",\"부산\"]}")).body());
        assertTrue(List.of("서울", "부산").contains(choice.at("/choices/0/message/content").asText()), choice.toString());
        JsonNode regex = JSON.readTree(server.post("/v1/completions", "{\"model\":\"nuri-ko-mini\",\"prompt\":\"전화:\","
                + "\"max_tokens\":20,\"temperature\":1,\"structured_outputs\":{\"regex\":\"\\\\d{3}-\\\\d{4}\"}}").body());
        assertTrue(regex.at("/choices/0/text").asText().matches("\\d{3}-\\d{4}"), regex.toString());
    }

    @Test
    void aRequiredToolCallIsMadeWithValidArgumentsStreamedOrNot() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("nuri-ko-mini")
                .addUserMessage("내일 부산 날씨 알려 주세요.").temperature(0.0).addTool(GetWeather.class)
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).parallelToolCalls(false).build();
        ChatCompletion c = client.chat().completions().create(params);
        ChatCompletion.Choice choice = c.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason(), c.toString());
        List<ChatCompletionMessageFunctionToolCall> calls = choice.message().toolCalls().orElseThrow().stream()
                .map(t -> t.asFunction()).toList();
        assertEquals(1, calls.size());
        ChatCompletionMessageFunctionToolCall call = calls.get(0);
        assertEquals("GetWeather", call.function().name());
        assertTrue(call.function().arguments(GetWeather.class).city != null, "arguments parse into the tool's class");
        assertTrue(call.id().startsWith("call_"));

        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(acc::accumulate);
        }
        ChatCompletion streamed = acc.chatCompletion();
        ChatCompletionMessageFunctionToolCall s = streamed.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals(call.function().name(), s.function().name());
        assertEquals(call.function().arguments(), s.function().arguments(), "greedy: the same call, streamed");
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, streamed.choices().get(0).finishReason());
    }

    @Test
    void aNamedFunctionIsTheOneCalledAndRequiredMayCallSeveral() throws Exception {
        // (Raw HTTP with compact schemas: the demo model's 512-token context holds about one SDK-generated tool.)
        String weather = "{\"type\":\"object\",\"properties\":{\"city\":{\"enum\":[\"서울\",\"부산\"]}},\"required\":[\"city\"]}";
        String visit = "{\"type\":\"object\",\"properties\":{\"day\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":31}},"
                + "\"required\":[\"day\"],\"additionalProperties\":false}";
        String tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"weather\",\"parameters\":" + weather + "}},"
                + "{\"type\":\"function\",\"function\":{\"name\":\"visit\",\"parameters\":" + visit + "}}]";
        for (int seed = 0; seed < 4; seed++) {
            JsonNode r = JSON.readTree(server.post("/v1/chat/completions", TestServer.chatBody("예약해 주세요.", tools
                    + ",\"temperature\":1,\"seed\":" + seed + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"visit\"}}"))
                    .body());
            JsonNode call = r.at("/choices/0/message/tool_calls/0/function");
            assertEquals("visit", call.path("name").asText(), r.toString());
            assertTrue(RandomSchemas.validate(JSON.readTree(visit), call.get("arguments").asText()).isEmpty(), r.toString());
            assertEquals("tool_calls", r.at("/choices/0/finish_reason").asText());

            JsonNode all = JSON.readTree(server.post("/v1/chat/completions", TestServer.chatBody("날씨와 예약", tools
                    + ",\"temperature\":1,\"seed\":" + seed + ",\"tool_choice\":\"required\"")).body());
            JsonNode calls = all.at("/choices/0/message/tool_calls");
            assertTrue(calls.size() >= 1, all.toString());
            for (JsonNode c : calls) {
                String name = c.at("/function/name").asText();
                String schema = name.equals("weather") ? weather : visit;
                assertTrue(RandomSchemas.validate(JSON.readTree(schema), c.at("/function/arguments").asText()).isEmpty(), all.toString());
            }
        }
    }

    @Test
    void toolCallsAndToolResultsInTheHistoryReachTheTemplate() throws Exception {
        String body = """
                {"model":"nuri-ko-mini","max_tokens":5,"return_token_ids":true,
                 "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
                   "properties":{"city":{"type":"string"}},"required":["city"]}}}],
                 "messages":[{"role":"user","content":"부산 날씨?"},
                   {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
                     "function":{"name":"get_weather","arguments":"{\\"city\\": \\"부산\\"}"}}]},
                   {"role":"tool","tool_call_id":"call_1","content":"맑음, 18도"}]}""";
        HttpResponse<String> r = server.post("/v1/chat/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        List<Integer> ids = new ArrayList<>();
        JSON.readTree(r.body()).get("prompt_token_ids").forEach(n -> ids.add(n.asInt()));
        String prompt = server.engine.tokenizer().decode(ids.stream().mapToInt(Integer::intValue).toArray(), false);
        assertTrue(prompt.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""), prompt);
        assertTrue(prompt.contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"부산\"}}\n</tool_call>"), prompt);
        assertTrue(prompt.contains("<tool_response>\n맑음, 18도\n</tool_response>"), prompt);
        JsonNode tokenized = JSON.readTree(server.post("/tokenize", body).body());
        assertEquals(JSON.readTree(r.body()).get("prompt_token_ids"), tokenized.get("tokens"), "/tokenize sees what chat sees");
    }

    @Test
    void withToolsOnAutoAPlainAnswerStaysContent() throws Exception {
        JsonNode r = JSON.readTree(server.post("/v1/chat/completions", TestServer.chatBody("여권 재발급은 어디서 하나요?",
                "\"temperature\":0,\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]")).body());
        assertEquals("stop", r.at("/choices/0/finish_reason").asText());
        assertFalse(r.at("/choices/0/message/content").asText().isEmpty());
        assertTrue(r.at("/choices/0/message/tool_calls").isMissingNode());
    }

    @Test
    void badConstraintsAndToolsAre400sNamingTheField() throws Exception {
        String[][] cases = {
            {"\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"array\",\"uniqueItems\":true}}}",
                "response_format.json_schema.schema", "uniqueItems"},
            {"\"response_format\":{\"type\":\"xml\"}", "response_format.type", "json_schema"},
            {"\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}", "response_format.json_schema.name", "name"},
            {"\"structured_outputs\":{\"regex\":\"(?<=a)b\"}", "structured_outputs.regex", "look-around"},
            {"\"structured_outputs\":{\"regex\":\"a\",\"choice\":[\"b\"]}", "structured_outputs", "exactly one"},
            {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"bad name\"}}]", "tools[0].function.name", "letters"},
            {"\"tools\":[{\"type\":\"retrieval\"}]", "tools[0]", "function"},
            {"\"tool_choice\":\"required\"", "tool_choice", "only allowed"},
            {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}}",
                "tool_choice", "'g'"},
            {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"format\":\"ipv6\"}}}}}],\"tool_choice\":\"required\"",
                "tools", "ipv6"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = server.post("/v1/chat/completions", TestServer.chatBody("안녕하세요.", c[0]));
            assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
            JsonNode error = JSON.readTree(r.body()).get("error");
            assertEquals(c[1], error.get("param").asText(), r.body());
            assertTrue(error.get("message").asText().contains(c[2]), r.body());
        }
        HttpResponse<String> ok = server.post("/v1/chat/completions", TestServer.chatBody("안녕하세요.", "\"max_tokens\":2"));
        assertEquals(200, ok.statusCode(), "the server keeps serving");
    }
}
