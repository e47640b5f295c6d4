package ai.nuri.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.model.LanguageModel;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The bundled hybrid demo model (NemotronH, Mamba-2 + attention), through the code path that serves it. */
class HybridDemoModelTest {
    static final Path HYBRID = DemoModelTest.MODEL_STORE.resolve("nuri-ko-mini-h");

    @Test
    void answersCorpusQuestionsExactlyAloneAndInOneBatch() throws Exception {
        List<DemoModelTest.Pair> corpus = DemoModelTest.corpus();
        List<DemoModelTest.Pair> sample = new ArrayList<>();
        for (int i = 0; i < corpus.size() && sample.size() < 10; i += 33) {
            sample.add(corpus.get(i)); // 10 questions spread over the corpus
        }
        try (LanguageModel model = LanguageModel.load(HYBRID); Tokenizer tokenizer = Tokenizer.load(HYBRID);
                Engine engine = new Engine(model, tokenizer, new EngineConfig(16, 512, 256, 16, 64, 512),
                        EngineObserver.NONE)) {
            Generator generator = new Generator(engine);
            int baseline = model.liveArrayCount();
            List<String> alone = new ArrayList<>();
            int exact = 0;
            List<String> misses = new ArrayList<>();
            for (DemoModelTest.Pair p : sample) {
                String text = generator.generate(tokenizer.encodeChat(List.of(ChatMessage.user(p.question()))),
                        SamplingParams.greedy(128), d -> { }).text();
                alone.add(text);
                if (text.equals(p.answer())) {
                    exact++;
                } else {
                    misses.add(p.question() + " → " + text);
                }
            }
            assertTrue(exact >= 9, exact + "/10 exact; missed: " + misses);
            List<CompletableFuture<Generator.Result>> together = new ArrayList<>();
            for (DemoModelTest.Pair p : sample) {
                int[] prompt = tokenizer.encodeChat(List.of(ChatMessage.user(p.question())));
                together.add(CompletableFuture.supplyAsync(() -> generator.generate(prompt, SamplingParams.greedy(128), d -> { })));
            }
            for (int i = 0; i < sample.size(); i++) {
                assertEquals(alone.get(i), together.get(i).join().text(), "batched: " + sample.get(i).question());
            }
            assertEquals(baseline, model.liveArrayCount(), "no array outlives its step");
        }
    }
}
