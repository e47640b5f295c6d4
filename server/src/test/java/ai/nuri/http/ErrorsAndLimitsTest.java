package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Bad input costs nothing; keys, rate limits, body limits and CORS hold; the exposition is valid. */
class ErrorsAndLimitsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    record Case(String what, String path, String body, int status, String code, String param, String messagePart) {}

    static final String OK_MSG = "[{\"role\":\"user\",\"content\":\"안녕\"}]";

    static final List<Case> CASES = List.of(
            new Case("bad JSON", "/v1/chat/completions", "{\"model\":", 400, null, null, "not valid JSON"),
            new Case("empty body", "/v1/chat/completions", "", 400, null, null, "empty"),
            new Case("not an object", "/v1/chat/completions", "[1,2]", 400, null, null, "JSON object"),
            new Case("no messages", "/v1/chat/completions", "{\"model\":\"nuri-ko-mini\"}", 400, null, "messages", "required"),
            new Case("empty messages", "/v1/chat/completions", "{\"model\":\"nuri-ko-mini\",\"messages\":[]}", 400, null, "messages", "non-empty"),
            new Case("bad role", "/v1/chat/completions", "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", 400, null, "messages[0].role", "one of"),
            new Case("content a number", "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", 400, null, "messages[0].content", "string or a list"),
            new Case("image to a text model", "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AA==\"}}]}]}", 400, null, "messages[0].content", "does not accept images"),
            new Case("temperature below 0", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"temperature\":-0.5}", 400, null, "temperature", ">= 0"),
            new Case("temperature a string", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"temperature\":\"hot\"}", 400, null, "temperature", "must be a number"),
            new Case("top_p 0", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"top_p\":0}", 400, null, "top_p", "greater than 0"),
            new Case("top_p above 1", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"top_p\":1.5}", 400, null, "top_p", "<= 1"),
            new Case("max_tokens 0", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"max_tokens\":0}", 400, null, "max_tokens", "between 1"),
            new Case("beyond the context", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"max_tokens\":100000}", 400, "context_length_exceeded", "max_tokens", "maximum context length is 512"),
            new Case("n too large", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"n\":17}", 400, null, "n", "between 1 and 16"),
            new Case("stop not strings", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"stop\":[1]}", 400, null, "stop", "list of strings"),
            new Case("unknown model", "/v1/chat/completions", "{\"model\":\"gpt-4o\",\"messages\":" + OK_MSG + "}", 404, "model_not_found", "model", "does not exist"),
            new Case("empty tools", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"tools\":[]}", 400, null, "tools", "at least one"),
            new Case("response_format json_schema without a schema", "/v1/chat/completions", "{\"messages\":" + OK_MSG
                    + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\"}}}", 400, null,
                    "response_format.json_schema.schema", "JSON Schema object"),
            new Case("logit_bias unsupported", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"logit_bias\":{\"1\":2}}", 400, "unsupported_parameter", "logit_bias", "not supported"),
            new Case("a misspelt stream option", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"stream_options\":{\"include_usag\":true}}", 400, "unsupported_parameter", "stream_options.include_usag", "not supported"),
            new Case("store true", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"store\":true}", 400, null, "store", "not supported"),
            new Case("top_logprobs without logprobs", "/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"top_logprobs\":2}", 400, null, "top_logprobs", "requires"),
            new Case("prompt too long", "/v1/completions", "{\"prompt\":" + tokenList(600) + "}", 400, "context_length_exceeded", "prompt", "maximum context length"),
            new Case("token id outside the vocabulary", "/v1/completions", "{\"prompt\":[1,2,99999]}", 400, null, "prompt", "outside the vocabulary"),
            new Case("prompt missing", "/v1/completions", "{\"max_tokens\":5}", 400, null, "prompt", "must be a string"),
            new Case("detokenize bad ids", "/detokenize", "{\"tokens\":[-1]}", 400, null, "tokens", "not a token id"),
            new Case("unknown route", "/v1/embeddings", "{}", 404, "not_found", null, "Not found"));

    static String tokenList(int n) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append(5);
        }
        return sb.append(']').toString();
    }

    /** A copy of the demo model (same folder name, so the same model id) with one of its files replaced. */
    static java.nio.file.Path demoWith(String file, String content) throws java.io.IOException {
        java.nio.file.Path folder = java.nio.file.Files.createTempDirectory("nuri-demo-copy").resolve("nuri-ko-mini");
        java.nio.file.Files.createDirectories(folder);
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "generation_config.json"}) {
            if (!f.equals(file)) {
                java.nio.file.Files.copy(TestServer.DEMO.resolve(f), folder.resolve(f));
            }
        }
        java.nio.file.Files.writeString(folder.resolve(file), content);
        return folder;
    }

    /** What a request leaves unset comes from the model's generation_config.json, as vLLM does. */
    @Test
    void samplingDefaultsComeFromTheModelsGenerationConfig() throws Exception {
        java.nio.file.Path folder = demoWith("generation_config.json", "{\"eos_token_id\":[2,0],\"temperature\":0.0,\"top_p\":0.5}");
        try (TestServer greedy = new TestServer(folder, new ai.nuri.engine.EngineConfig(8, 512, 256, 16, 16, 512),
                TestServer.config(List.of(), 0), 0)) {
            String body = TestServer.chatBody("여권 재발급은 어디서 하나요?", "\"max_tokens\":40");
            java.util.Set<String> texts = new java.util.HashSet<>();
            for (int i = 0; i < 4; i++) {
                texts.add(JSON.readTree(greedy.post("/v1/chat/completions", body).body()).at("/choices/0/message/content").asText());
            }
            assertEquals(1, texts.size(), "temperature 0 from generation_config.json: the same answer every time " + texts);
            String explicit = JSON.readTree(greedy.post("/v1/chat/completions", TestServer.chatBody("여권 재발급은 어디서 하나요?",
                    "\"max_tokens\":40,\"temperature\":0")).body()).at("/choices/0/message/content").asText();
            assertEquals(explicit, texts.iterator().next());
        }
    }

    /** /v1/completions adds the BOS token when the tokenizer is configured to, as vLLM and transformers do. */
    @Test
    void completionsAddTheBosTokenWhenTheTokenizerSaysSo() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode tc = (com.fasterxml.jackson.databind.node.ObjectNode)
                JSON.readTree(TestServer.DEMO.resolve("tokenizer_config.json").toFile());
        tc.put("bos_token", "<|endoftext|>").put("add_bos_token", true);
        java.nio.file.Path folder = demoWith("tokenizer_config.json", tc.toString());
        try (TestServer s = new TestServer(folder, new ai.nuri.engine.EngineConfig(8, 512, 256, 16, 16, 512),
                TestServer.config(List.of(), 0), 0)) {
            int bos = s.engine.tokenizer().specialTokenId("<|endoftext|>").orElseThrow();
            JsonNode r = JSON.readTree(s.post("/v1/completions", "{\"prompt\":\"여권\",\"max_tokens\":1,\"return_token_ids\":true}").body());
            assertEquals(bos, r.get("prompt_token_ids").get(0).asInt(), r.toString());
            JsonNode already = JSON.readTree(s.post("/v1/completions",
                    "{\"prompt\":\"<|endoftext|>여권\",\"max_tokens\":1,\"return_token_ids\":true}").body());
            assertEquals(r.get("prompt_token_ids"), already.get("prompt_token_ids"), "not added twice");
        }
        JsonNode plain;
        try (TestServer s = new TestServer()) {
            plain = JSON.readTree(s.post("/v1/completions", "{\"prompt\":\"여권\",\"max_tokens\":1,\"return_token_ids\":true}").body());
        }
        assertTrue(plain.get("prompt_token_ids").size() > 0 && plain.get("prompt_token_ids").get(0).asInt() != 0,
                "the demo tokenizer adds none: " + plain.get("prompt_token_ids"));
    }

    /** Fields the official SDKs and popular clients send with harmless default values are accepted. */
    @Test
    void harmlessDefaultsClientsSendAreAcceptedAndOneModelCanBeRead() throws Exception {
        try (TestServer s = new TestServer()) {
            HttpResponse<String> r = s.post("/v1/chat/completions", "{\"messages\":" + OK_MSG + ",\"max_tokens\":3,"
                    + "\"response_format\":{\"type\":\"text\"},\"store\":false,\"parallel_tool_calls\":true,\"n\":1,"
                    + "\"logprobs\":false,\"stream\":false,\"stream_options\":{\"include_usage\":true}}");
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(!r.body().startsWith("data:"), "no stream: stream_options changes nothing");
            HttpResponse<String> one = s.get("/v1/models/nuri-ko-mini");
            assertEquals(200, one.statusCode());
            assertEquals("nuri-ko-mini", JSON.readTree(one.body()).get("id").asText());
            assertEquals(512, JSON.readTree(one.body()).get("max_model_len").asInt());
            HttpResponse<String> none = s.get("/v1/models/gpt-4o");
            assertEquals(404, none.statusCode());
            assertEquals("model_not_found", JSON.readTree(none.body()).at("/error/code").asText());
        }
    }

    @Test
    void everyBadRequestGetsItsStatusAndErrorAndCostsNothing() throws Exception {
        try (TestServer s = new TestServer()) {
            String good = TestServer.chatBody("여권 재발급은 어디서 하나요?", "\"temperature\":0");
            String expected = JSON.readTree(s.post("/v1/chat/completions", good).body()).at("/choices/0/message/content").asText();
            int baseline = s.model.liveArrayCount();
            for (Case c : CASES) {
                HttpResponse<String> r = s.post(c.path(), c.body());
                assertEquals(c.status(), r.statusCode(), c.what() + ": " + r.body());
                JsonNode error = JSON.readTree(r.body()).get("error");
                assertTrue(error != null && error.has("message") && error.has("type") && error.has("param") && error.has("code"),
                        c.what() + ": OpenAI error shape: " + r.body());
                assertTrue(error.get("message").asText().contains(c.messagePart()), c.what() + ": " + r.body());
                if (c.code() != null) {
                    assertEquals(c.code(), error.get("code").asText(), c.what());
                }
                if (c.param() != null) {
                    assertEquals(c.param(), error.get("param").asText(), c.what());
                }
            }
            HttpResponse<String> put = s.http.send(HttpRequest.newBuilder(URI.create(s.url("/v1/chat/completions")))
                    .PUT(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, put.statusCode());
            assertEquals("method_not_allowed", JSON.readTree(put.body()).at("/error/code").asText());
            HttpResponse<String> huge = s.post("/v1/chat/completions", "{\"x\":\"" + "가".repeat(400_000) + "\"}");
            assertEquals(413, huge.statusCode());
            assertEquals("request_too_large", JSON.readTree(huge.body()).at("/error/code").asText());

            assertEquals(expected, JSON.readTree(s.post("/v1/chat/completions", good).body()).at("/choices/0/message/content").asText(),
                    "still serving correctly");
            assertEquals(baseline, s.model.liveArrayCount(), "no NDArray left behind");
            assertEquals(0.0, s.metric("nuri_kv_cache_usage_ratio"));
        }
    }

    @Test
    void apiKeysRateLimitsAndCors() throws Exception {
        try (TestServer s = new TestServer(new ai.nuri.engine.EngineConfig(8, 512, 256, 16, 16, 512),
                TestServer.config(List.of("sk-nuri-1", "sk-nuri-2"), 3))) {
            HttpResponse<String> none = s.get("/v1/models");
            assertEquals(401, none.statusCode());
            assertEquals("invalid_api_key", JSON.readTree(none.body()).at("/error/code").asText());
            HttpRequest.Builder wrong = HttpRequest.newBuilder(URI.create(s.url("/v1/models"))).header("Authorization", "Bearer sk-nuri-3");
            assertEquals(401, s.http.send(wrong.build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(401, s.post("/tokenize", "{\"prompt\":\"안녕\"}").statusCode(), "the tokenizer is behind the keys too");
            assertEquals(401, s.post("/detokenize", "{\"tokens\":[5]}").statusCode());
            assertEquals(200, s.get("/health").statusCode(), "health is open");
            assertEquals(200, s.get("/metrics").statusCode(), "metrics are open");
            HttpRequest right = HttpRequest.newBuilder(URI.create(s.url("/v1/models"))).header("Authorization", "Bearer sk-nuri-2").build();
            for (int i = 0; i < 3; i++) {
                assertEquals(200, s.http.send(right, HttpResponse.BodyHandlers.ofString()).statusCode(), "request " + i);
            }
            HttpResponse<String> limited = s.http.send(right, HttpResponse.BodyHandlers.ofString());
            assertEquals(429, limited.statusCode());
            assertTrue(Integer.parseInt(limited.headers().firstValue("Retry-After").orElseThrow()) >= 1);
            HttpRequest other = HttpRequest.newBuilder(URI.create(s.url("/v1/models"))).header("Authorization", "Bearer sk-nuri-1").build();
            assertEquals(200, s.http.send(other, HttpResponse.BodyHandlers.ofString()).statusCode(), "limits are per key");
            assertTrue(s.get("/metrics").body().contains("nuri_requests_rejected_total{model_name=\"\",reason=\"rate_limited\"} 1"),
                    "a 429 is counted with the rejected requests");

            HttpResponse<String> preflight = s.http.send(HttpRequest.newBuilder(URI.create(s.url("/v1/chat/completions")))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "http://example.test")
                    .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("http://example.test", preflight.headers().firstValue("Access-Control-Allow-Origin").orElseThrow());
        }
    }

    @Test
    void logprobBytesRebuildTheAnswerAndTokensSplittingACharacterAreMarked() throws Exception {
        assertEquals("bytes:\\xeb\\xb7", ResponseShape.tokenText(new byte[] {(byte) 0xEB, (byte) 0xB7}));
        assertEquals("뷁", ResponseShape.tokenText("뷁".getBytes(StandardCharsets.UTF_8)));
        assertEquals(2, ResponseShape.completeChars("가나".getBytes(StandardCharsets.UTF_8)));
        assertEquals(1, ResponseShape.completeChars(new byte[] {(byte) 0xEA, (byte) 0xB0, (byte) 0x80, (byte) 0xEB}));
        try (TestServer s = new TestServer()) {
            JsonNode r = JSON.readTree(s.post("/v1/chat/completions", TestServer.chatBody("여권 재발급은 어디서 하나요?",
                    "\"temperature\":0,\"logprobs\":true,\"top_logprobs\":2")).body());
            String content = r.at("/choices/0/message/content").asText();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (JsonNode entry : r.at("/choices/0/logprobs/content")) {
                entry.get("bytes").forEach(b -> bytes.write(b.asInt()));
                assertEquals(2, entry.get("top_logprobs").size());
                assertTrue(entry.get("logprob").asDouble() <= 0);
            }
            assertEquals(content, bytes.toString(StandardCharsets.UTF_8).replace("<|im_end|>", ""),
                    "the bytes of every token, the end token's aside, are the answer");
        }
    }

    @Test
    void aManagementPortTakesHealthReadyAndMetricsOffTheApiPort() throws Exception {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, List.of("sk-1"), 1 << 20, 0, List.of(),
                java.time.Duration.ofSeconds(5), java.time.Duration.ZERO, 0);
        try (TestServer s = new TestServer(new ai.nuri.engine.EngineConfig(8, 512, 256, 16, 16, 512), config)) {
            int management = s.server.managementPort();
            assertTrue(management > 0 && management != s.port);
            for (String path : List.of("/health", "/ready", "/metrics")) {
                HttpResponse<String> r = s.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + path))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), path + " on the management port, without a key");
                assertEquals(404, s.get(path).statusCode(), path + " is not on the API port");
            }
            HttpResponse<String> api = s.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + "/v1/models"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, api.statusCode(), "the API is not on the management port");
        }
    }

    @Test
    void promtoolFindsNoProblemInTheExpositionAfterTraffic() throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        assertTrue(Files.isExecutable(promtool), "promtool (Debian package prometheus) is installed by .ci/run");
        try (TestServer s = new TestServer()) {
            s.post("/v1/chat/completions", TestServer.chatBody("안녕하세요.", "\"stream\":true"));
            s.post("/v1/chat/completions", TestServer.chatBody("안녕하세요.", "\"temperature\":5"));
            s.post("/v1/completions", "{\"prompt\":\"안녕\",\"max_tokens\":3}");
            String scrape = s.get("/metrics").body();
            for (String name : List.of("nuri_time_to_first_token_seconds_bucket", "nuri_inter_token_latency_seconds_bucket",
                    "nuri_e2e_request_latency_seconds_bucket", "nuri_request_queue_time_seconds_bucket",
                    "nuri_request_prefill_time_seconds_bucket", "nuri_request_decode_time_seconds_bucket",
                    "nuri_request_prompt_tokens_bucket", "nuri_request_generation_tokens_bucket", "nuri_engine_step_seconds_bucket",
                    "nuri_batch_size_bucket", "nuri_prompt_tokens_total", "nuri_generation_tokens_total",
                    "nuri_request_success_total", "nuri_num_preemptions_total", "nuri_prefix_cache_queries_total",
                    "nuri_prefix_cache_hits_total", "nuri_images_total", "nuri_num_requests_running",
                    "nuri_num_requests_waiting", "nuri_kv_cache_usage_ratio", "vertx_http_server_requests_total",
                    "jvm_memory_used_bytes", "jvm_threads_live_threads", "jvm_gc_memory_allocated_bytes_total",
                    "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "nuri_build_info")) {
                assertTrue(scrape.contains("\n" + name), "exports " + name);
            }
            assertTrue(scrape.contains("vertx_http_server_requests_total{code=\"200\",method=\"POST\",route=\"/v1/completions\"}"),
                    "HTTP meters carry the matched route");
            assertTrue(scrape.lines().noneMatch(l -> l.matches("^[a-z_]+_max(\\{.*)? .*")), "no decaying-window *_max gauges");
            assertTrue(scrape.contains("nuri_time_to_first_token_seconds_bucket{model_name=\"nuri-ko-mini\",le=\"0.01\"}"));
            assertTrue(scrape.contains("nuri_time_to_first_token_seconds_bucket{model_name=\"nuri-ko-mini\",le=\"60.0\"}"));
            Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
            p.getOutputStream().write(scrape.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            p.getInputStream().transferTo(out);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), "promtool: " + out.toString(StandardCharsets.UTF_8));
        }
    }
}
