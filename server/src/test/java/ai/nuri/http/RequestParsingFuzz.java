package ai.nuri.http;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.engine.EngineObserver;
import ai.nuri.fuzz.Fuzzing;
import ai.nuri.model.LanguageModel;
import ai.nuri.text.Tokenizer;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Request bodies, as bytes off the wire, through everything that reads them before the engine:
 * UTF-8 and JSON parsing, validation of chat, completions, responses and tokenize requests, chat
 * template rendering with the control-token fence, tool and schema compilation. Bad input may
 * only be refused (ApiException, which the server answers with its 4xx); anything else thrown is
 * a finding (it would be a 500).
 */
class RequestParsingFuzz {
    static LanguageModel model;
    static Engine engine;
    static ModelRegistry models;
    static ResponseStore store = new ResponseStore(10, java.time.Duration.ofMinutes(1));

    @BeforeAll
    static void load() throws Exception {
        model = LanguageModel.load(Fuzzing.DEMO);
        Tokenizer tokenizer = Tokenizer.load(Fuzzing.DEMO);
        engine = new Engine(model, tokenizer, new EngineConfig(8, 512, 256, 16, 16, 512), new EngineObserver() { });
        models = new ModelRegistry(List.of(new ServedModel(model.id(), engine, null, 0L)));
    }

    @AfterAll
    static void close() {
        engine.close();
        model.close();
    }

    @FuzzTest(maxDuration = Fuzzing.BUDGET)
    @DictionaryEntries({"{\"model\":\"nuri-ko-mini\",", "\"messages\":[", "{\"role\":\"user\",\"content\":\"", "\"role\":\"system\"",
            "\"role\":\"assistant\"", "\"role\":\"tool\"", "\"tool_call_id\"", "\"tool_calls\":[", "\"function\":{\"name\":\"",
            "\"arguments\":\"", "\"prompt\":", "\"input\":", "\"max_tokens\":", "\"temperature\":", "\"top_p\":", "\"top_k\":",
            "\"n\":", "\"stop\":", "\"seed\":", "\"logprobs\":true", "\"top_logprobs\":", "\"stream\":true",
            "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":",
            "{\"type\":\"object\",\"properties\":{", "\"pattern\":\"", "\"enum\":[", "\"tools\":[{\"type\":\"function\",",
            "\"tool_choice\":\"required\"", "\"image_url\"", "{\"type\":\"text\",\"text\":\"", "<|im_start|>", "<|im_end|>",
            "{{", "{%", "\\ufdd0", "\\ud800", "1e999", "-0", "null", "true", "[]", "{}"})
    void parse(FuzzedDataProvider data) {
        int route = data.consumeInt(0, 3);
        byte[] body = data.consumeRemainingAsBytes();
        try {
            JsonNode json = NuriServer.parseJson(body);
            switch (route) {
                case 0 -> RequestParser.chat(json, models);
                case 1 -> RequestParser.completion(json, models);
                case 2 -> ResponsesRequest.parse(json, models, store);
                default -> Tokenize.tokenize(json, models);
            }
        } catch (ApiException | IllegalArgumentException refused) {
            // answered with a 4xx (IllegalArgumentException: 400, as NuriServer.fail maps it)
        }
    }
}
