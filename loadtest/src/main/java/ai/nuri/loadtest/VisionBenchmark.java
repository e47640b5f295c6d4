package ai.nuri.loadtest;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineConfig;
import ai.nuri.engine.EngineImage;
import ai.nuri.engine.EngineObserver;
import ai.nuri.engine.Generator;
import ai.nuri.engine.SamplingParams;
import ai.nuri.media.ImagePreprocessor;
import ai.nuri.model.LanguageModel;
import ai.nuri.model.train.ShapeScenes;
import ai.nuri.text.ChatMessage;
import ai.nuri.text.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An image+text model in-process: vision-tower time per image (batches of 1 and 8), and the time to
 * first token of an image request alone and while 16 text streams decode on the same engine.
 *
 * <pre>java -cp "loadtest/target/nuri-loadtest-*.jar:server/target/nuri-server.jar" \
 *     ai.nuri.loadtest.VisionBenchmark model-store/nuri-ko-vision-mini [runs]</pre>
 */
public final class VisionBenchmark {
    public static void main(String[] args) throws Exception {
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
        Path folder = Path.of(args.length > 0 ? args[0] : "model-store/nuri-ko-vision-mini");
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        ShapeScenes scenes = new ShapeScenes();
        ImagePreprocessor pre = ImagePreprocessor.read(folder.resolve("preprocessor_config.json"));
        try (LanguageModel model = LanguageModel.load(folder); Tokenizer tokenizer = Tokenizer.load(folder)) {
            List<float[]> pixels = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                pixels.add(pre.apply(scenes.scene(7_000_000_000L + i).image()).chw());
            }
            int size = ShapeScenes.SIZE;
            model.encodeImages(pixels, size, size); // warm-up
            for (int batch : new int[] {1, 8}) {
                double[] ms = new double[runs];
                for (int r = 0; r < runs; r++) {
                    long t0 = System.nanoTime();
                    model.encodeImages(pixels.subList(0, batch), size, size);
                    ms[r] = (System.nanoTime() - t0) / 1e6 / batch;
                }
                Arrays.sort(ms);
                System.out.printf("vision_encode batch=%d ms_per_image median=%.2f min=%.2f max=%.2f%n", batch,
                        ms[runs / 2], ms[0], ms[runs - 1]);
            }
            try (Engine engine = new Engine(model, tokenizer, new EngineConfig(32, 1024, 1024, 16, 256, 256, false),
                    EngineObserver.NONE)) {
                Generator g = new Generator(engine);
                ShapeScenes.Scene scene = scenes.scene(7_100_000_000L);
                int[] imagePrompt = model.expandImageTokens(tokenizer.encodeChat(List.of(ChatMessage.withParts("user",
                        List.of(ChatMessage.Part.IMAGE, new ChatMessage.Part(scene.question()))))));
                int[] textPrompt = tokenizer.encodeChat(List.of(ChatMessage.user("그림에 무엇이 있나요?")));
                SamplingParams one = SamplingParams.greedy(1);
                g.generate(imagePrompt, List.of(image(pre, scenes.scene(1))), one, d -> { }); // warm-up
                System.out.printf("ttft_image_alone ms median=%.1f%n", ttft(g, imagePrompt, pre, scenes, runs));
                AtomicBoolean stop = new AtomicBoolean();
                SamplingParams endless = new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, 200, List.of(), List.of(), true);
                List<CompletableFuture<?>> streams = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    streams.add(CompletableFuture.runAsync(() -> {
                        while (!stop.get()) {
                            g.generate(textPrompt, endless, d -> { });
                        }
                    }));
                }
                Thread.sleep(1000);
                System.out.printf("ttft_image_under_16_text_streams ms median=%.1f%n", ttft(g, imagePrompt, pre, scenes, runs));
                stop.set(true);
                streams.forEach(CompletableFuture::join);
            }
        }
    }

    /** Median time to the first token over {@code runs} image requests, each a new picture (no cache hit). */
    private static double ttft(Generator g, int[] prompt, ImagePreprocessor pre, ShapeScenes scenes, int runs) {
        double[] ms = new double[runs];
        for (int r = 0; r < runs; r++) {
            EngineImage image = image(pre, scenes.scene(7_200_000_000L + r + (long) (Math.random() * 1e6)));
            long t0 = System.nanoTime();
            g.generate(prompt, List.of(image), SamplingParams.greedy(1), d -> { });
            ms[r] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[runs / 2];
    }

    private static EngineImage image(ImagePreprocessor pre, ShapeScenes.Scene s) {
        ImagePreprocessor.Pixels px = pre.apply(s.image());
        return new EngineImage(px.chw(), px.height(), px.width());
    }
}
