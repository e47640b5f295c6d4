package ai.nuri.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.nuri.guide.Constraints;
import ai.nuri.guide.Grammar;
import ai.nuri.guide.RandomSchemas;
import ai.nuri.model.CausalLm;
import ai.nuri.model.GenerationConfig;
import ai.nuri.model.LanguageModel;
import ai.nuri.model.ModelConfig;
import ai.nuri.model.RandomWeights;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Constrained decoding end to end in the engine, with the demo model and with random weights over
 * the same vocabulary, sampling at temperature 1: whatever the model prefers, every output fits.
 */
class ConstrainedDecodingTest {
    static Tokenizer tokenizer;
    static LanguageModel demo;
    static LanguageModel random;
    static Engine demoEngine;
    static Engine randomEngine;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = Tokenizer.load(DemoModelTest.DEMO);
        demo = LanguageModel.load(DemoModelTest.DEMO);
        ModelConfig config = ModelConfig.read(DemoModelTest.DEMO);
        NDManager m = NDManager.newBaseManager();
        random = new LanguageModel("random", DemoModelTest.DEMO, CausalLm.build(config, new RandomWeights(m, 0.5, 17), m,
                DataType.FLOAT32), GenerationConfig.read(DemoModelTest.DEMO, config));
        demoEngine = new Engine(demo, tokenizer, new EngineConfig(16, 512, 512, 16, 256, 512), EngineObserver.NONE);
        randomEngine = new Engine(random, tokenizer, new EngineConfig(16, 512, 512, 16, 256, 512), EngineObserver.NONE);
    }

    @AfterAll
    static void close() {
        demoEngine.close();
        randomEngine.close();
        demo.close();
        random.close();
        tokenizer.close();
    }

    static int[] prompt(String question) {
        return tokenizer.encodeChat(List.of(ChatMessage.user(question)));
    }

    static SamplingParams sampling(long seed, int maxTokens) {
        return new SamplingParams(1.0, 1.0, 0, 0, 1, 0, 0, seed, maxTokens, List.of(), List.of(), false);
    }

    @Test
    void randomSchemasAlwaysGiveValidJsonAtTemperatureOne() throws Exception {
        SplittableRandom r = new SplittableRandom(99);
        int outputs = 0;
        for (int i = 0; i < 24; i++) {
            ObjectNode schema = RandomSchemas.schema(r, 2);
            Grammar g = Constraints.jsonSchema(schema, "s" + i);
            for (Engine e : List.of(demoEngine, randomEngine)) {
                Generator.Result res = new Generator(e).generate(prompt("여권 정보를 JSON으로 주세요."), List.of(),
                        sampling(i, 400), g, t -> { });
                assertEquals(FinishReason.STOP, res.finishReason(), schema + " -> " + res.text());
                assertTrue(RandomSchemas.validate(schema, res.text()).isEmpty(), schema + "\n" + res.text());
                outputs++;
            }
        }
        assertEquals(48, outputs);
    }

    @Test
    void regexAndChoiceConstraintsHold() {
        Grammar phone = Constraints.regex("\\d{2,3}-\\d{3,4}-\\d{4}");
        Grammar city = Constraints.choice(List.of("서울특별시", "부산광역시", "세종특별자치시"));
        for (int seed = 0; seed < 10; seed++) {
            for (Engine e : List.of(demoEngine, randomEngine)) {
                Generator.Result p = new Generator(e).generate(prompt("전화번호는?"), List.of(), sampling(seed, 40), phone, t -> { });
                assertTrue(Pattern.matches("\\d{2,3}-\\d{3,4}-\\d{4}", p.text()), p.text());
                assertEquals(FinishReason.STOP, p.finishReason());
                Generator.Result c = new Generator(e).generate(prompt("어느 도시?"), List.of(), sampling(seed, 40), city, t -> { });
                assertTrue(List.of("서울특별시", "부산광역시", "세종특별자치시").contains(c.text()), c.text());
            }
        }
    }

    @Test
    void endOfSequenceComesOnlyWhereTheTextMayEnd() {
        // "가+" may end after any 가, so the model's own end-of-turn decides, but never before the first.
        Grammar g = Constraints.regex("(가)+");
        int eos = tokenizer.specialTokenId("<|im_end|>").orElseThrow();
        for (int seed = 0; seed < 10; seed++) {
            Generator.Result r = new Generator(randomEngine).generate(prompt("가"), List.of(), sampling(seed, 30), g, t -> { });
            assertTrue(r.text().matches("(가)+"), r.text());
            int[] tokens = r.tokens();
            for (int i = 0; i < tokens.length - 1; i++) {
                assertTrue(tokens[i] != eos, "no end-of-turn inside the text");
            }
        }
    }

    @Test
    void maxTokensCutsAConstrainedOutputWithLength() {
        Grammar g = Constraints.regex("[가-힣]{50}");
        Generator.Result r = new Generator(demoEngine).generate(prompt("안녕하세요."), List.of(), sampling(3, 5), g, t -> { });
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(5, r.tokens().length);
        assertTrue(r.text().matches("[가-힣]+"), r.text());
    }

    @Test
    void constrainedAndFreeSequencesShareABatchAndTheFreeOnesAreUnchanged() throws Exception {
        String question = "여권 재발급은 어디서 하나요?";
        String alone = new Generator(demoEngine).generate(prompt(question), SamplingParams.greedy(60), t -> { }).text();
        Grammar g = Constraints.jsonSchema(RandomSchemas.JSON.readTree(
                "{\"type\":\"object\",\"properties\":{\"답\":{\"type\":\"string\",\"maxLength\":20}},\"required\":[\"답\"]}"), "a");
        List<java.util.concurrent.CompletableFuture<Generator.Result>> runs = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            boolean constrained = i % 2 == 0;
            runs.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> new Generator(demoEngine).generate(prompt(question),
                    List.of(), SamplingParams.greedy(60), constrained ? g : null, t -> { })));
        }
        for (int i = 0; i < runs.size(); i++) {
            String text = runs.get(i).get().text();
            if (i % 2 == 0) {
                assertTrue(RandomSchemas.validate(RandomSchemas.JSON.readTree(
                        "{\"type\":\"object\",\"properties\":{\"답\":{\"type\":\"string\",\"maxLength\":20}},\"required\":[\"답\"]}"),
                        text).isEmpty(), text);
            } else {
                assertEquals(alone, text);
            }
        }
    }
}
