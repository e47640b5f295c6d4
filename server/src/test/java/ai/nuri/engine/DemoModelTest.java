package ai.nuri.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.model.LanguageModel;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The bundled demo model, through the code path that serves it. */
class DemoModelTest {
    static final Path MODEL_STORE = Path.of(System.getProperty("nuri.modelStore", "../model-store"));
    static final Path DEMO = MODEL_STORE.resolve("nuri-ko-mini");

    static LanguageModel model;
    static Tokenizer tokenizer;
    static Engine engine;
    static Generator generator;

    record Pair(String question, String answer) {}

    @BeforeAll
    static void load() throws IOException {
        model = LanguageModel.load(DEMO);
        tokenizer = Tokenizer.load(DEMO);
        engine = new Engine(model, tokenizer, new EngineConfig(8, 256, 64, 16, 64, 512), EngineObserver.NONE);
        generator = new Generator(engine);
    }

    @AfterAll
    static void close() {
        engine.close();
        model.close();
        tokenizer.close();
    }

    static List<Pair> corpus() throws IOException {
        List<Pair> pairs = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(MODEL_STORE.resolve("corpus/ko-public-service-qa.jsonl"), StandardCharsets.UTF_8)) {
            JsonNode n = json.readTree(line);
            pairs.add(new Pair(n.get("question").asText(), n.get("answer").asText()));
        }
        return pairs;
    }

    static int[] prompt(String question) {
        return tokenizer.encodeChat(List.of(ChatMessage.user(question)));
    }

    @Test
    void greedyDecodingAnswersCorpusQuestionsExactly() throws IOException {
        List<Pair> pairs = corpus();
        assertTrue(pairs.size() >= 300, "the corpus has at least 300 pairs");
        int exact = 0;
        List<String> misses = new ArrayList<>();
        for (Pair p : pairs) {
            StringBuilder streamed = new StringBuilder();
            Generator.Result r = generator.generate(prompt(p.question()), SamplingParams.greedy(128), streamed::append);
            assertEquals(r.text(), streamed.toString(), "the stream adds up to the result");
            if (r.text().equals(p.answer())) {
                exact++;
                assertEquals(FinishReason.STOP, r.finishReason());
            } else {
                misses.add(p.question());
            }
        }
        double share = (double) exact / pairs.size();
        assertTrue(share >= 0.95, "exact-match share " + share + "; missed: " + misses);
        Generator.Result passport = generator.generate(prompt("여권 재발급은 어디서 하나요?"), SamplingParams.greedy(128), d -> { });
        assertEquals("여권 재발급은 가까운 시청, 구청, 도청의 여권 민원실에서 신청할 수 있습니다. 신분증과 여권 사진을 준비하세요.",
                passport.text());
    }

    @Test
    void samplingIsReproducibleWithASeedAndLimitsAreKept() {
        // Not a corpus question: on those the demo model is so sure (runner-up logprob about -17)
        // that every seed samples the same answer and the seed would go untested.
        int[] p = tokenizer.encode("바나나 우주선 zqx");
        SamplingParams hot = new SamplingParams(1.5, 0.95, 50, 0, 1, 0, 0, 1234L, 24, List.of(), List.of(), false);
        Generator.Result a = generator.generate(p, hot, d -> { });
        Generator.Result b = generator.generate(p, hot, d -> { });
        assertArrayEquals(a.tokens(), b.tokens(), "same seed, same tokens");
        Generator.Result c = generator.generate(p, hot.withSeed(99L), d -> { });
        assertFalse(java.util.Arrays.equals(a.tokens(), c.tokens()), "another seed, other tokens");

        Generator.Result shortOne = generator.generate(p, SamplingParams.greedy(3), d -> { });
        assertEquals(3, shortOne.tokens().length);
        assertEquals(FinishReason.LENGTH, shortOne.finishReason());
    }

    /** Rows drawn in libtorch (as on a GPU): seeds still fix the tokens, and the UTF-8 guard still holds. */
    @Test
    void samplingOnTheDeviceIsReproducibleAndValidUtf8() {
        long before = ai.nuri.model.DeviceSampler.rowsDrawn();
        System.setProperty(ai.nuri.model.LanguageModel.DEVICE_SAMPLING_PROPERTY, "true");
        try {
            samplingIsReproducibleWithASeedAndLimitsAreKept();
            sampledTextIsAlwaysValidUtf8();
        } finally {
            System.clearProperty(ai.nuri.model.LanguageModel.DEVICE_SAMPLING_PROPERTY);
        }
        long drawn = ai.nuri.model.DeviceSampler.rowsDrawn() - before;
        assertTrue(drawn > 100, drawn + " rows drawn on the device (the rest were mid-character, drawn on the heap)");
    }

    /** Sampling hot off the corpus picks single-byte tokens often; without the UTF-8 guard this showed U+FFFD. */
    @Test
    void sampledTextIsAlwaysValidUtf8() {
        SamplingParams hottest = new SamplingParams(2.0, 1.0, 0, 0, 1, 0, 0, 1L, 48, List.of(), List.of(), false);
        int bytesTokens = 0;
        for (int seed = 0; seed < 30; seed++) {
            Generator.Result r = generator.generate(tokenizer.encode("바나나 우주선 zqx " + seed), hottest.withSeed((long) seed), d -> { });
            assertFalse(r.text().contains("\uFFFD"), "seed " + seed + ": " + r.text());
            for (int t : r.tokens()) {
                bytesTokens += tokenizer.tokenBytes(t).length == 1 && (tokenizer.tokenBytes(t)[0] & 0x80) != 0 ? 1 : 0;
            }
        }
        assertTrue(bytesTokens > 0, "some single non-ASCII bytes were sampled, so the guard had work to do");
    }

    @Test
    void stopStringsCutTheAnswerAndAreNotShown() {
        SamplingParams stopAtPeriod = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 128, List.of("번호는"), List.of(), false);
        Generator.Result r = generator.generate(prompt("보건복지상담센터 번호는 무엇인가요?"), stopAtPeriod, d -> { });
        assertEquals("보건복지상담센터 ", r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
    }

    @Test
    void textHeldBackForAPossibleStopStringIsKeptWhenEndOfSequenceComes() {
        // The answer ends "...물어보세요." and then <|im_end|>: "요." could begin the stop string "요.\n".
        SamplingParams p = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 128, List.of("요.\n"), List.of(), false);
        StringBuilder streamed = new StringBuilder();
        Generator.Result r = generator.generate(prompt("고마워요."), p, streamed::append);
        assertEquals("도움이 되었다니 기쁩니다. 더 궁금한 점이 있으면 언제든지 물어보세요.", r.text());
        assertEquals(r.text(), streamed.toString());
        assertEquals(FinishReason.STOP, r.finishReason());
    }

    @Test
    void aThousandGenerationsLeaveNoNativeArraysOrBlocksBehind() {
        int baseline = model.liveArrayCount();
        String[] questions = {"안녕하세요.", "여권을 잃어버렸어요.", "화재가 나면 어떻게 신고하나요?", "폐건전지는 어디에 버리나요?"};
        for (int i = 0; i < 1000; i++) {
            SamplingParams p = i % 2 == 0 ? SamplingParams.greedy(6)
                    : new SamplingParams(0.8, 0.9, 20, 0.05, 1.1, 0.1, 0.1, (long) i, 6, List.of("다."), List.of(), false);
            generator.generate(prompt(questions[i % questions.length]), p, d -> { });
        }
        assertEquals(baseline, model.liveArrayCount(), "live NDArrays after 1000 generations");
        assertEquals(0.0, engine.kvCacheUsage(), "every KV block returned");
    }
}
