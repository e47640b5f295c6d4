package ai.nuri.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.model.LanguageModel;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The scheduler's hard cases: a KV pool too small for everyone, and budgets that force chunking. */
class EngineTest {
    static final Path DEMO = Path.of(System.getProperty("nuri.modelStore", "../model-store")).resolve("nuri-ko-mini");
    static LanguageModel model;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        model = LanguageModel.load(DEMO);
        tokenizer = Tokenizer.load(DEMO);
    }

    @AfterAll
    static void close() {
        model.close();
        tokenizer.close();
    }

    static int[] prompt(String q) {
        return tokenizer.encode(tokenizer.chatTemplate().orElseThrow().render(List.of(ChatMessage.user(q)), true));
    }

    static final String[] QUESTIONS = {"안녕하세요.", "여권을 잃어버렸어요.", "화재가 나면 어떻게 신고하나요?", "폐건전지는 어디에 버리나요?"};

    /** Runs every prompt at once on an engine, returning each one's tokens. */
    static List<int[]> runTogether(Engine engine, SamplingParams params) {
        List<CompletableFuture<Generator.Result>> futures = new ArrayList<>();
        Generator generator = new Generator(engine);
        for (String q : QUESTIONS) {
            futures.add(CompletableFuture.supplyAsync(() -> generator.generate(prompt(q), params, d -> { })));
        }
        return futures.stream().map(f -> f.join().tokens()).toList();
    }

    @Test
    void preemptedSequencesAreRecomputedAndEndExactlyAsTheyWouldAlone() {
        // 200 tokens each, 4 at once: ~850 positions, but the pool holds 20 blocks of 16 = 320.
        SamplingParams longGreedy = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 200, List.of(), List.of(), true);
        List<int[]> alone = new ArrayList<>();
        try (Engine roomy = new Engine(model, tokenizer, new EngineConfig(1, 512, 64, 16, 16, 512), EngineObserver.NONE)) {
            Generator g = new Generator(roomy);
            for (String q : QUESTIONS) {
                alone.add(g.generate(prompt(q), longGreedy, d -> { }).tokens());
            }
        }
        AtomicInteger preemptions = new AtomicInteger();
        EngineObserver counting = new EngineObserver() {
            @Override
            public void onPreemption() {
                preemptions.incrementAndGet();
            }
        };
        try (Engine tight = new Engine(model, tokenizer, new EngineConfig(4, 512, 20, 16, 16, 300), counting)) {
            SamplingParams capped = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 200, List.of(), List.of(), true);
            List<int[]> together = runTogether(tight, capped);
            for (int i = 0; i < QUESTIONS.length; i++) {
                assertArrayEquals(alone.get(i), together.get(i), QUESTIONS[i]);
            }
            assertTrue(preemptions.get() > 0, "the pool was too small, so someone was preempted");
            assertEquals(0.0, tight.kvCacheUsage());
        }
    }

    @Test
    void aSmallTokenBudgetPrefillsInChunksWithoutChangingTheOutput() {
        SamplingParams greedy = SamplingParams.greedy(40);
        List<int[]> wide;
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 512, 128, 16, 16, 512), EngineObserver.NONE)) {
            wide = runTogether(e, greedy);
        }
        AtomicInteger maxStepTokens = new AtomicInteger();
        EngineObserver steps = new EngineObserver() {
            @Override
            public void onStep(int batchSize, int scheduledTokens, double seconds) {
                maxStepTokens.accumulateAndGet(scheduledTokens, Math::max);
            }
        };
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 5, 128, 16, 16, 512), steps)) {
            List<int[]> narrow = runTogether(e, greedy);
            for (int i = 0; i < QUESTIONS.length; i++) {
                assertArrayEquals(wide.get(i), narrow.get(i), QUESTIONS[i]);
            }
        }
        assertEquals(5, maxStepTokens.get(), "no step went over its 5-token budget");
    }

    @Test
    void theEngineRefusesWhatCannotFit() {
        assertThrows(IllegalArgumentException.class,
                () -> new Engine(model, tokenizer, new EngineConfig(1, 64, 4, 16, 1, 512), EngineObserver.NONE));
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(1, 64, 40, 16, 1, 64), EngineObserver.NONE)) {
            assertThrows(IllegalArgumentException.class, () -> new Generator(e).generate(new int[64], SamplingParams.greedy(1), d -> { }));
        }
    }
}
