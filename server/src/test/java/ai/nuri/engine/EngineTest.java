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
        return tokenizer.encodeChat(List.of(ChatMessage.user(q)));
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

    /**
     * Output is made off the engine thread: a listener still busy with the first token's text does
     * not hold the engine, which goes on stepping; the text then arrives whole and in order, and a
     * stop string found there ends the request with the usage up to it, once the engine has let
     * the sequence go.
     */
    @Test
    void theEngineStepsOnWhileAListenerIsBusyAndAStopStringStillEndsTheRequest() throws Exception {
        AtomicInteger made = new AtomicInteger();
        EngineObserver tokens = new EngineObserver() {
            @Override
            public void onFirstToken(double ttft, double prefill) {
                made.incrementAndGet();
            }

            @Override
            public void onInterToken(double seconds) {
                made.incrementAndGet();
            }
        };
        SamplingParams twenty = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 20, List.of(), List.of(), true);
        try (Engine engine = new Engine(model, tokenizer, new EngineConfig(4, 512, 64, 16, 16, 512), tokens)) {
            String alone = new Generator(engine).generate(prompt(QUESTIONS[1]), twenty, d -> { }).text();
            made.set(0);
            CompletableFuture<String> threadName = new CompletableFuture<>();
            AtomicInteger madeWhileHeld = new AtomicInteger();
            StringBuilder text = new StringBuilder();
            CompletableFuture<Integer> finished = new CompletableFuture<>();
            engine.submit(new EngineRequest("busy", prompt(QUESTIONS[1]), twenty, -1, new SequenceListener() {
                @Override
                public void onDelta(String delta, int[] ids, List<TokenLogprob> logprobs) {
                    if (!threadName.isDone()) {
                        threadName.complete(Thread.currentThread().getName());
                        long deadline = System.nanoTime() + 20_000_000_000L;
                        while (made.get() < 10 && System.nanoTime() < deadline) { // held until the engine made 10 tokens
                            Thread.onSpinWait();
                        }
                        madeWhileHeld.set(made.get());
                    }
                    text.append(delta);
                }

                @Override
                public void onFinish(FinishReason reason, int promptTokens, int completionTokens) {
                    finished.complete(completionTokens);
                }

                @Override
                public void onAbort(String reason) {
                    finished.completeExceptionally(new IllegalStateException(reason));
                }
            }, List.of(), null));
            assertEquals(20, finished.get(30, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(madeWhileHeld.get() >= 10,
                    "the engine went on while the listener held its first token: " + madeWhileHeld.get());
            assertTrue(threadName.get().startsWith("nuri-output-"), threadName.get());
            assertEquals(alone, text.toString());

            // A stop string in the middle of that same text: the request ends there, counted up to it.
            String stop = alone.substring(alone.length() / 2, alone.length() / 2 + 2);
            SamplingParams stopping = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 20, List.of(stop), List.of(), true);
            Generator.Result r = new Generator(engine).generate(prompt(QUESTIONS[1]), stopping, d -> { });
            assertEquals(FinishReason.STOP, r.finishReason());
            assertEquals(alone.substring(0, alone.indexOf(stop)), r.text());
            assertTrue(r.tokens().length < 20, "stopped early: " + r.tokens().length);
            assertEquals(0, engine.runningCount(), "retired before its listener heard of the end");
            assertEquals(0.0, engine.kvCacheUsage());
        }
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

    /** Greedy tokens of each prompt, run one after another on an engine. */
    static List<int[]> runInTurn(Engine engine, List<int[]> prompts, SamplingParams params) {
        Generator generator = new Generator(engine);
        return prompts.stream().map(p -> generator.generate(p, params, d -> { }).tokens()).toList();
    }

    @Test
    void prefixCachingReusesSharedPromptBlocksWithoutChangingAnyToken() {
        String system = "너는 대한민국 공공 서비스를 안내하는 도우미 누리야. 모르는 것은 모른다고 말하고, 담당 기관의 누리집이나 "
                + "전화번호를 알려 줘. 개인정보는 묻지 마.";
        List<int[]> prompts = new ArrayList<>();
        for (String q : List.of("여권 재발급은 어디서 하나요?", "기상콜센터 번호는 무엇인가요?", "폐건전지는 어디에 버리나요?")) {
            prompts.add(tokenizer.encodeChat(List.of(ChatMessage.system(system), ChatMessage.user(q))));
        }
        prompts.add(prompts.get(0)); // the very same prompt again: all but its last block is cached
        assertTrue(prompts.get(0).length > 48, "the shared system prompt spans several blocks: " + prompts.get(0).length);
        SamplingParams greedy = SamplingParams.greedy(40);
        List<int[]> plain;
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 512, 64, 16, 16, 512, false), EngineObserver.NONE)) {
            plain = runInTurn(e, prompts, greedy);
        }
        int[] lookups = new int[2];
        EngineObserver counting = new EngineObserver() {
            @Override
            public void onPrefixCacheLookup(int queried, int hit) {
                lookups[0] += queried;
                lookups[1] += hit;
            }
        };
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 512, 64, 16, 16, 512, true), counting)) {
            List<int[]> cached = runInTurn(e, prompts, greedy);
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(plain.get(i), cached.get(i), "prompt " + i);
            }
            // Together too: the same tokens whoever shares the blocks.
            List<CompletableFuture<Generator.Result>> together = new ArrayList<>();
            Generator g = new Generator(e);
            for (int[] p : prompts) {
                together.add(CompletableFuture.supplyAsync(() -> g.generate(p, greedy, d -> { })));
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(plain.get(i), together.get(i).join().tokens(), "together, prompt " + i);
            }
            assertEquals(0.0, e.kvCacheUsage(), "cached blocks nobody holds are free again");
        }
        int sharedBlocks = (prompts.get(0).length - 1) / 16;
        assertTrue(lookups[1] >= 3 * 16 * 2, "later prompts found the shared system prompt: " + lookups[1] + " hit tokens");
        assertTrue(lookups[1] >= sharedBlocks * 16, "the repeated prompt reused its blocks");
        assertTrue(lookups[1] < lookups[0], "never more hits than lookups");
    }

    @Test
    void aPoolTooSmallToKeepTheCacheEvictsItAndStaysCorrect() {
        List<int[]> prompts = new ArrayList<>();
        for (String q : QUESTIONS) {
            prompts.add(prompt(q));
        }
        SamplingParams longGreedy = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 100, List.of(), List.of(), true);
        List<int[]> plain;
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(1, 512, 64, 16, 16, 512, false), EngineObserver.NONE)) {
            plain = runInTurn(e, prompts, longGreedy);
        }
        // 9 blocks: each 113-token run needs 8, so every new run evicts most of the last one's cache.
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(1, 512, 9, 16, 16, 140, true), EngineObserver.NONE)) {
            List<int[]> cached = runInTurn(e, prompts, longGreedy);
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(plain.get(i), cached.get(i), QUESTIONS[i]);
            }
        }
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
