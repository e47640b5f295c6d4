package ai.nuri.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.media.ImageDecoder;
import ai.nuri.media.ImagePreprocessor;
import ai.nuri.model.LanguageModel;
import ai.nuri.text.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Image requests through the engine, on the CLIP LLaVA fixture (its logits are tied to a numpy
 * reference in LlavaModelTest): encoding once and in batches, the encoding cache, prefix-cache
 * keys that cover image content, and image and text requests sharing batches.
 */
class ImageEngineTest {
    static final Path FIXTURE = Path.of("src/test/resources/llava/clip-new");
    static LanguageModel model;
    static Tokenizer tokenizer;
    static int[] prompt;
    static double[] lastLogits;
    static EngineImage scene;
    static EngineImage alpha;
    static final SamplingParams GREEDY = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 12, List.of(), List.of(), true);

    @BeforeAll
    static void load() throws Exception {
        model = LanguageModel.load(FIXTURE);
        tokenizer = Tokenizer.load(EngineTest.DEMO); // any tokenizer: these tests compare token ids
        JsonNode golden = new ObjectMapper().readTree(FIXTURE.resolve("golden.json").toFile());
        prompt = new int[golden.get("input_ids").size()];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = golden.get("input_ids").get(i).asInt();
        }
        JsonNode last = golden.get("logits").get(prompt.length - 1);
        lastLogits = new double[last.size()];
        for (int i = 0; i < lastLogits.length; i++) {
            lastLogits[i] = last.get(i).asDouble();
        }
        ImagePreprocessor pre = ImagePreprocessor.read(FIXTURE.resolve("preprocessor_config.json"));
        scene = image(pre, "scene.png");
        alpha = image(pre, "alpha.png");
    }

    static EngineImage image(ImagePreprocessor pre, String file) throws Exception {
        ImagePreprocessor.Pixels px = pre.apply(new ImageDecoder(1 << 20)
                .decode(Files.readAllBytes(Path.of("src/test/resources/llava/images", file))));
        return new EngineImage(px.chw(), px.height(), px.width());
    }

    @AfterAll
    static void close() {
        model.close();
        tokenizer.close();
    }

    /** Counts what the engine reports about images and the prefix cache. */
    static final class Counting implements EngineObserver {
        final AtomicInteger encodeBatches = new AtomicInteger();
        final AtomicInteger encoded = new AtomicInteger();
        final AtomicInteger cacheQueries = new AtomicInteger();
        final AtomicInteger cacheHits = new AtomicInteger();
        final AtomicInteger prefixHits = new AtomicInteger();

        @Override
        public void onImagesEncoded(int images, double seconds) {
            encodeBatches.incrementAndGet();
            encoded.addAndGet(images);
        }

        @Override
        public void onImageCacheLookup(int queried, int hits) {
            cacheQueries.addAndGet(queried);
            cacheHits.addAndGet(hits);
        }

        @Override
        public void onPrefixCacheLookup(int queriedTokens, int hitTokens) {
            prefixHits.addAndGet(hitTokens);
        }
    }

    @Test
    void theFirstTokenIsTheReferencesAndARepeatedImageIsNotEncodedAgain() {
        Counting counting = new Counting();
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 512, 64, 4, 16, 128, false), counting)) {
            Generator g = new Generator(e);
            int[] first = g.generate(prompt, List.of(scene), GREEDY, d -> { }).tokens();
            int argmax = 0;
            for (int i = 1; i < lastLogits.length; i++) {
                argmax = lastLogits[i] > lastLogits[argmax] ? i : argmax;
            }
            assertEquals(argmax, first[0], "the reference's next token");
            int[] again = g.generate(prompt, List.of(scene), GREEDY, d -> { }).tokens();
            assertArrayEquals(first, again);
            assertEquals(1, counting.encoded.get(), "the same picture is encoded once");
            assertEquals(2, counting.cacheQueries.get());
            assertEquals(1, counting.cacheHits.get());
        }
    }

    @Test
    void twoImagesWithTheSameTextNeverShareCachedBlocks() {
        List<int[]> plain = new ArrayList<>();
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 512, 64, 4, 16, 128, false), EngineObserver.NONE)) {
            Generator g = new Generator(e);
            plain.add(g.generate(prompt, List.of(scene), GREEDY, d -> { }).tokens());
            plain.add(g.generate(prompt, List.of(alpha), GREEDY, d -> { }).tokens());
        }
        // (This tiny random model may well answer both pictures alike; the prefix-cache hits below tell them apart.)
        Counting counting = new Counting();
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 512, 64, 4, 16, 128, true), counting)) {
            Generator g = new Generator(e);
            assertArrayEquals(plain.get(0), g.generate(prompt, List.of(scene), GREEDY, d -> { }).tokens());
            assertArrayEquals(plain.get(1), g.generate(prompt, List.of(alpha), GREEDY, d -> { }).tokens());
            // Only the 4 text tokens before the image (block 0) are shared; no block holding image tokens is.
            assertEquals(4, counting.prefixHits.get());
            assertArrayEquals(plain.get(0), g.generate(prompt, List.of(scene), GREEDY, d -> { }).tokens());
            assertTrue(counting.prefixHits.get() > 8, "the same picture again reuses its image blocks");
        }
    }

    @Test
    void imageAndTextRequestsShareBatchesAndImagesAreEncodedTogether() {
        int[] text = java.util.Arrays.copyOf(prompt, 4);
        List<int[]> alone = new ArrayList<>();
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(1, 512, 64, 4, 16, 128, false), EngineObserver.NONE)) {
            Generator g = new Generator(e);
            alone.add(g.generate(prompt, List.of(scene), GREEDY, d -> { }).tokens());
            alone.add(g.generate(prompt, List.of(alpha), GREEDY, d -> { }).tokens());
            alone.add(g.generate(text, GREEDY, d -> { }).tokens());
        }
        Counting counting = new Counting();
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 512, 64, 4, 16, 128, false), counting)) {
            Generator g = new Generator(e);
            int baseline = model.liveArrayCount();
            List<CompletableFuture<int[]>> together = List.of(
                    CompletableFuture.supplyAsync(() -> g.generate(prompt, List.of(scene), GREEDY, d -> { }).tokens()),
                    CompletableFuture.supplyAsync(() -> g.generate(prompt, List.of(alpha), GREEDY, d -> { }).tokens()),
                    CompletableFuture.supplyAsync(() -> g.generate(text, GREEDY, d -> { }).tokens()));
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(alone.get(i), together.get(i).join(), "request " + i);
            }
            assertEquals(baseline, model.liveArrayCount());
            assertEquals(2, counting.encoded.get());
        }
    }

    @Test
    void imagesThatDoNotMatchTheImageTokensAreRefused() {
        try (Engine e = new Engine(model, tokenizer, new EngineConfig(8, 512, 64, 4, 16, 128, false), EngineObserver.NONE)) {
            Generator g = new Generator(e);
            var ex = assertThrows(IllegalArgumentException.class,
                    () -> g.generate(prompt, List.of(scene, alpha), GREEDY, d -> { }));
            assertTrue(ex.getMessage().contains("16 image tokens for 2 images"), ex.getMessage());
        }
    }
}
