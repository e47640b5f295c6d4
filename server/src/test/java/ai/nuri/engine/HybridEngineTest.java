package ai.nuri.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.CausalLm;
import ai.nuri.model.CheckpointWriter;
import ai.nuri.model.HybridConfig;
import ai.nuri.model.LanguageModel;
import ai.nuri.model.ModelConfig;
import ai.nuri.model.TestModels;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hybrid (Mamba-2 + attention) model through the engine: the recurrent state pool next to the
 * KV cache. Batching, chunked prefill, preemption and a state pool smaller than the batch must
 * not change a single greedy token; prefix caching stays off; nothing leaks.
 */
class HybridEngineTest {
    @TempDir
    static Path folder;
    static LanguageModel model;
    static Tokenizer tokenizer;
    static final List<int[]> PROMPTS = new ArrayList<>();
    /** 40 tokens each whatever the model says: random weights say nothing, but deterministically. */
    static final SamplingParams GREEDY = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 40, List.of(), List.of(), true);

    @BeforeAll
    static void makeModel() throws Exception {
        // Random weights large enough that greedy choices are clear, with the demo model's tokenizer.
        HybridConfig hybrid = new HybridConfig(HybridConfig.parsePattern("M-M*M-"), 4, 16, 16, 2, 4, 8, true, false,
                0.0, Double.POSITIVE_INFINITY, null);
        ModelConfig c = new ModelConfig("NemotronHForCausalLM", 3072, 64, 128, 6, 4, 2, 16, 512, 10000.0, 1.0, null,
                1e-5, false, false, false, "relu2", 0, List.of(2), hybrid);
        try (NDManager m = NDManager.newBaseManager();
                CausalLm random = CausalLm.build(c, TestModels.jittered(m, 5), m, DataType.FLOAT32)) {
            CheckpointWriter.save(random, folder, CheckpointWriter.Storage.F32);
        }
        Path demo = EngineTest.DEMO;
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(demo.resolve(f), folder.resolve(f));
        }
        model = LanguageModel.load(folder);
        tokenizer = Tokenizer.load(folder);
        String[] questions = {"안녕하세요.", "여권을 잃어버렸어요.", "화재가 나면 어떻게 신고하나요?", "폐건전지는 어디에 버리나요?",
            "주민등록등본은 어디서 떼나요?", "기상콜센터 번호는 무엇인가요?", "전입신고는 언제까지 해야 하나요?", "고마워요!"};
        for (int i = 0; i < 32; i++) {
            String q = questions[i % questions.length] + " " + "질문 ".repeat(i / questions.length);
            PROMPTS.add(tokenizer.encodeChat(List.of(ChatMessage.user(q))));
        }
    }

    @AfterAll
    static void close() {
        model.close();
        tokenizer.close();
    }

    static List<int[]> runTogether(Engine engine, List<int[]> prompts) {
        Generator generator = new Generator(engine);
        List<CompletableFuture<Generator.Result>> futures = new ArrayList<>();
        for (int[] p : prompts) {
            futures.add(CompletableFuture.supplyAsync(() -> generator.generate(p, GREEDY, d -> { })));
        }
        return futures.stream().map(f -> f.join().tokens()).toList();
    }

    static List<int[]> alone(List<int[]> prompts) {
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(1, 512, 64, 16, 16, 512), EngineObserver.NONE)) {
            Generator g = new Generator(e);
            return prompts.stream().map(p -> g.generate(p, GREEDY, d -> { }).tokens()).toList();
        }
    }

    /** The usage gauges are snapshots taken after each engine loop turn: give the last turn time to end. */
    static void awaitSnapshot(Engine e) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while ((e.stateUsage() > 0 || e.kvCacheUsage() > 0) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    @Test
    void greedyOutputIsTheSameAloneAndInABatchOf32() {
        List<int[]> alone = alone(PROMPTS);
        AtomicInteger largestBatch = new AtomicInteger();
        EngineObserver batches = new EngineObserver() {
            @Override
            public void onStep(int batchSize, int scheduledTokens, double seconds) {
                largestBatch.accumulateAndGet(batchSize, Math::max);
            }
        };
        int baseline;
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(32, 2048, 512, 16, 64, 512), batches)) {
            baseline = model.liveArrayCount();
            List<int[]> together = runTogether(e, PROMPTS);
            for (int i = 0; i < PROMPTS.size(); i++) {
                assertArrayEquals(alone.get(i), together.get(i), "prompt " + i);
            }
            assertEquals(baseline, model.liveArrayCount(), "no array outlives its step");
            awaitSnapshot(e);
            assertEquals(0.0, e.stateUsage(), "every state slot is back");
        }
        assertTrue(largestBatch.get() >= 16, "the sequences really shared steps: " + largestBatch.get());
        assertFalse(alone.get(0).length == 0);
    }

    @Test
    void chunkedPrefillPreemptionAndAStatePoolSmallerThanTheBatchChangeNothing() {
        List<int[]> prompts = PROMPTS.subList(24, 32); // the longest prompts
        List<int[]> alone = alone(prompts);
        AtomicInteger preemptions = new AtomicInteger();
        AtomicInteger largestBatch = new AtomicInteger();
        AtomicInteger maxStepTokens = new AtomicInteger();
        EngineObserver watch = new EngineObserver() {
            @Override
            public void onPreemption() {
                preemptions.incrementAndGet();
            }

            @Override
            public void onStep(int batchSize, int scheduledTokens, double seconds) {
                largestBatch.accumulateAndGet(batchSize, Math::max);
                maxStepTokens.accumulateAndGet(scheduledTokens, Math::max);
            }
        };
        // 7 tokens per step (prompts of ~25 tokens prefill in several chunks, chunk sizes not multiples of the
        // scan's 8), 3 state slots for 8 sequences, and 12 KV blocks of 8 for ~520 positions: preemption.
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 7, 12, 8, 16, 96, true, 3), watch)) {
            assertFalse(e.prefixCaching(), "a hybrid model's state cannot be resumed from cached blocks");
            List<int[]> together = runTogether(e, prompts);
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(alone.get(i), together.get(i), "prompt " + i);
            }
            awaitSnapshot(e);
            assertEquals(0.0, e.stateUsage(), "every state slot is back");
            assertEquals(0.0, e.kvCacheUsage());
        }
        assertTrue(preemptions.get() > 0, "the KV pool was too small for everyone");
        assertTrue(largestBatch.get() <= 3, "never more sequences than state slots: " + largestBatch.get());
        assertEquals(7, maxStepTokens.get());
    }
}
