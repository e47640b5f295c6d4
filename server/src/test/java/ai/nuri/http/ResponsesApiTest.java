package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Responses API: the official SDK's responses().create, streamed and not, conversations, the event sequence, bad input. */
class ResponsesApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static TestServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer(new ai.nuri.engine.EngineConfig(16, 1024, 1024, 16, 64, 1024), TestServer.config(List.of(), 0));
        client = OpenAIOkHttpClient.builder().baseUrl(server.url("/v1")).apiKey("not-needed").build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    static String text(Response r) {
        StringBuilder sb = new StringBuilder();
        for (ResponseOutputItem item : r.output()) {
            item.message().ifPresent(m -> m.content().forEach(c -> sb.append(c.asOutputText().text())));
        }
        return sb.toString();
    }

    @Test
    void theSdkGetsTheKoreanAnswerStreamedAndNot() {
        ResponseCreateParams params = ResponseCreateParams.builder().model("nuri-ko-mini").input(OpenAiSdkTest.PASSPORT_Q)
                .temperature(0.0).build();
        Response r = client.responses().create(params);
        assertEquals(OpenAiSdkTest.PASSPORT_A, text(r));
        assertEquals(ResponseStatus.COMPLETED, r.status().orElseThrow());
        assertTrue(r.id().startsWith("resp_"));
        long input = r.usage().orElseThrow().inputTokens();
        long output = r.usage().orElseThrow().outputTokens();
        assertEquals(input + output, r.usage().orElseThrow().totalTokens());

        ResponseAccumulator acc = ResponseAccumulator.create();
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(params)) {
            stream.stream().forEach(acc::accumulate);
        }
        assertEquals(OpenAiSdkTest.PASSPORT_A, text(acc.response()));
    }

    @Test
    void aConversationContinuesThroughPreviousResponseId() throws Exception {
        Response first = client.responses().create(ResponseCreateParams.builder().model("nuri-ko-mini")
                .input(OpenAiSdkTest.PASSPORT_Q).temperature(0.0).build());
        Response second = client.responses().create(ResponseCreateParams.builder().model("nuri-ko-mini")
                .input("고마워요.").previousResponseId(first.id()).temperature(0.0).build());
        assertEquals(ResponseStatus.COMPLETED, second.status().orElseThrow());
        // The second prompt holds the whole first exchange: its input is longer than the two questions alone.
        long alone = client.responses().create(ResponseCreateParams.builder().model("nuri-ko-mini").input("고마워요.")
                .temperature(0.0).maxOutputTokens(16L).build()).usage().orElseThrow().inputTokens();
        assertTrue(second.usage().orElseThrow().inputTokens() > alone + first.usage().orElseThrow().outputTokens(),
                second.usage() + " vs " + alone);

        HttpResponse<String> got = server.http.send(HttpRequest.newBuilder(URI.create(server.url("/v1/responses/" + first.id())))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, got.statusCode());
        assertEquals(text(first), JSON.readTree(got.body()).at("/output/0/content/0/text").asText());
        HttpResponse<String> deleted = server.http.send(HttpRequest.newBuilder(URI.create(server.url("/v1/responses/" + first.id())))
                .DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(JSON.readTree(deleted.body()).get("deleted").asBoolean());
        HttpResponse<String> gone = server.post("/v1/responses", "{\"model\":\"nuri-ko-mini\",\"input\":\"또요\","
                + "\"previous_response_id\":\"" + first.id() + "\"}");
        assertEquals(404, gone.statusCode());
        assertEquals("previous_response_id", JSON.readTree(gone.body()).at("/error/param").asText());
        assertTrue(JSON.readTree(gone.body()).at("/error/message").asText().contains(first.id()));
    }

    /** Reads a Responses stream: (event name, data) pairs in order. */
    static List<String[]> events(String body) throws Exception {
        HttpResponse<java.io.InputStream> r = server.http.send(HttpRequest.newBuilder(URI.create(server.url("/v1/responses")))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        List<String[]> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String line;
            String name = null;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    out.add(new String[] {name, line.substring(6)});
                }
            }
        }
        return out;
    }

    @Test
    void theEventSequenceIsOpenAisEventByEvent() throws Exception {
        List<String[]> ev = events("{\"model\":\"nuri-ko-mini\",\"input\":\"" + OpenAiSdkTest.PASSPORT_Q
                + "\",\"temperature\":0,\"stream\":true,\"metadata\":{\"부서\":\"민원\"}}");
        List<String> names = ev.stream().map(e -> e[0]).toList();
        assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
                "response.content_part.added"), names.subList(0, 4));
        assertEquals(List.of("response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.completed"), names.subList(names.size() - 4, names.size()));
        StringBuilder deltas = new StringBuilder();
        for (int i = 0; i < ev.size(); i++) {
            JsonNode data = JSON.readTree(ev.get(i)[1]);
            assertEquals(ev.get(i)[0], data.get("type").asText(), "the data's type is the event's name");
            assertEquals(i, data.get("sequence_number").asInt());
            if (i >= 4 && i < ev.size() - 4) {
                assertEquals("response.output_text.delta", ev.get(i)[0]);
                deltas.append(data.get("delta").asText());
            }
        }
        assertEquals(OpenAiSdkTest.PASSPORT_A, deltas.toString(), "the deltas add up to the answer, whole syllables each");
        JsonNode done = JSON.readTree(ev.get(ev.size() - 1)[1]).get("response");
        assertEquals(OpenAiSdkTest.PASSPORT_A, done.get("output_text").asText());
        assertEquals("민원", done.at("/metadata/부서").asText());
        assertEquals(OpenAiSdkTest.PASSPORT_A, JSON.readTree(ev.get(ev.size() - 4)[1]).get("text").asText());
    }

    @Test
    void theTokenLimitMakesAnIncompleteResponse() throws Exception {
        JsonNode r = JSON.readTree(server.post("/v1/responses", "{\"model\":\"nuri-ko-mini\",\"input\":\"안녕하세요.\","
                + "\"max_output_tokens\":3}").body());
        assertEquals("incomplete", r.get("status").asText());
        assertEquals("max_output_tokens", r.at("/incomplete_details/reason").asText());
        assertEquals(3, r.at("/usage/output_tokens").asInt());
        List<String[]> ev = events("{\"model\":\"nuri-ko-mini\",\"input\":\"안녕하세요.\",\"max_output_tokens\":3,\"stream\":true}");
        assertEquals("response.incomplete", ev.get(ev.size() - 1)[0]);
    }

    @Test
    void functionToolsCallAndTheirOutputsContinueTheLoop() throws Exception {
        String tools = "\"tools\":[{\"type\":\"function\",\"name\":\"weather\",\"parameters\":{\"type\":\"object\",\"properties\":"
                + "{\"city\":{\"enum\":[\"서울\",\"부산\"]}},\"required\":[\"city\"]}}],\"tool_choice\":\"required\"";
        JsonNode r = JSON.readTree(server.post("/v1/responses", "{\"model\":\"nuri-ko-mini\",\"input\":\"부산 날씨\"," + tools + "}")
                .body());
        JsonNode call = r.at("/output/0");
        assertEquals("function_call", call.get("type").asText(), r.toString());
        assertEquals("weather", call.get("name").asText());
        assertTrue(JSON.readTree(call.get("arguments").asText()).get("city").isTextual());
        List<String[]> ev = events("{\"model\":\"nuri-ko-mini\",\"input\":\"부산 날씨\",\"stream\":true," + tools + "}");
        List<String> names = ev.stream().map(e -> e[0]).toList();
        assertTrue(names.containsAll(List.of("response.output_item.added", "response.function_call_arguments.delta",
                "response.function_call_arguments.done", "response.output_item.done", "response.completed")), names.toString());
        // The tool's answer continues the conversation from the stored response.
        String followUp = "{\"model\":\"nuri-ko-mini\",\"previous_response_id\":\"" + r.get("id").asText() + "\",\"max_output_tokens\":8,"
                + "\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"" + call.get("call_id").asText() + "\",\"output\":\"맑음\"}]}";
        HttpResponse<String> next = server.post("/v1/responses", followUp);
        assertEquals(200, next.statusCode(), next.body());
    }

    @Test
    void badInputIsA400OrA404NamingTheField() throws Exception {
        String[][] cases = {
            {"{\"model\":\"nuri-ko-mini\"}", "400", "input"},
            {"{\"model\":\"nuri-ko-mini\",\"input\":[{\"type\":\"reasoning\"}]}", "400", "input[0].type"},
            {"{\"model\":\"nuri-ko-mini\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\"}]}]}", "400", "input[0].content[0].type"},
            {"{\"model\":\"nuri-ko-mini\",\"input\":\"x\",\"reasoning\":{\"effort\":\"low\"}}", "400", "reasoning"},
            {"{\"model\":\"nuri-ko-mini\",\"input\":\"x\",\"max_output_tokens\":0}", "400", "max_output_tokens"},
            {"{\"model\":\"nuri-ko-mini\",\"input\":\"x\",\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"a\",\"schema\":{\"type\":\"array\",\"uniqueItems\":true}}}}", "400", "text.format.schema"},
            {"{\"model\":\"nuri-ko-mini\",\"input\":\"x\",\"tools\":[{\"type\":\"web_search\"}]}", "400", "tools[0].type"},
            {"{\"model\":\"nuri-ko-mini\",\"input\":\"x\",\"previous_response_id\":\"resp_nope\"}", "404", "previous_response_id"},
            {"{\"model\":\"nuri-ko-mini\",\"input\":\"x\",\"metadata\":{\"a\":1}}", "400", "metadata"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = server.post("/v1/responses", c[0]);
            assertEquals(Integer.parseInt(c[1]), r.statusCode(), c[0] + " -> " + r.body());
            assertEquals(c[2], JSON.readTree(r.body()).at("/error/param").asText(), c[0] + " -> " + r.body());
        }
        HttpResponse<String> missing = server.http.send(HttpRequest.newBuilder(URI.create(server.url("/v1/responses/resp_nope")))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
        assertFalse(JSON.readTree(missing.body()).at("/error/message").asText().isEmpty());
    }

    @Test
    void aClientThatLeavesMidStreamIsCancelledAndItsBlocksFreed() throws Exception {
        // A string of at least 300 characters keeps the model writing long enough to hang up in the middle.
        String body = "{\"model\":\"nuri-ko-mini\",\"input\":\"길게\",\"stream\":true,\"max_output_tokens\":600,"
                + "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"long\",\"schema\":{\"type\":\"string\",\"minLength\":300}}}}";
        double cancelledBefore = server.metric("nuri_request_failure_total{model_name=\"nuri-ko-mini\",reason=\"cancelled\"}");
        HttpResponse<java.io.InputStream> r = server.http.send(HttpRequest.newBuilder(URI.create(server.url("/v1/responses")))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        for (int i = 0; i < 12; i++) {
            in.readLine(); // into the deltas
        }
        r.body().close();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline && (server.metric("nuri_kv_cache_usage_ratio") > 0
                || server.metric("nuri_request_failure_total{model_name=\"nuri-ko-mini\",reason=\"cancelled\"}") == cancelledBefore)) {
            Thread.sleep(20);
        }
        assertEquals(0.0, server.metric("nuri_kv_cache_usage_ratio"), "KV blocks returned");
        assertEquals(cancelledBefore + 1,
                server.metric("nuri_request_failure_total{model_name=\"nuri-ko-mini\",reason=\"cancelled\"}"), "counted as cancelled");
    }

    @Test
    void responsesSitBehindTheSameApiKeys() throws Exception {
        try (TestServer keyed = new TestServer(new ai.nuri.engine.EngineConfig(4, 512, 128, 16, 16, 512),
                TestServer.config(List.of("sk-nuri"), 0))) {
            assertEquals(401, keyed.post("/v1/responses", "{\"model\":\"nuri-ko-mini\",\"input\":\"x\"}").statusCode());
            assertEquals(401, keyed.http.send(HttpRequest.newBuilder(URI.create(keyed.url("/v1/responses/resp_x"))).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(200, keyed.post("/v1/responses", "{\"model\":\"nuri-ko-mini\",\"input\":\"x\",\"max_output_tokens\":2}",
                    "Authorization", "Bearer sk-nuri").statusCode());
        }
    }

    @Test
    void jsonSchemaTextFormatHolds() throws Exception {
        String schema = "{\"type\":\"object\",\"properties\":{\"답\":{\"type\":\"string\",\"maxLength\":10}},\"required\":[\"답\"],"
                + "\"additionalProperties\":false}";
        JsonNode r = JSON.readTree(server.post("/v1/responses", "{\"model\":\"nuri-ko-mini\",\"input\":\"여권?\",\"temperature\":1,"
                + "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"a\",\"strict\":true,\"schema\":" + schema + "}}}").body());
        assertTrue(ai.nuri.guide.RandomSchemas.validate(JSON.readTree(schema), r.get("output_text").asText()).isEmpty(), r.toString());
    }
}
