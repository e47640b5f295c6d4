package ai.nuri.model.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.CausalLm;
import ai.nuri.model.HybridConfig;
import ai.nuri.model.ModelConfig;
import ai.nuri.model.TestModels;
import ai.nuri.model.WeightSource;
import ai.nuri.model.vision.LlavaModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The trainers learn: a few dozen steps on a handful of examples drive the loss far down, for a
 * transformer, a hybrid Mamba model (gradients through the chunked scan and the convolution) and
 * an image+text model (through the vision tower and the projector).
 */
class TrainersTest {
    static final List<TrainingExample> EXAMPLES = List.of(
            new TrainingExample(new int[] {1, 5, 9, 13, 17, 21, 2}, 3),
            new TrainingExample(new int[] {1, 6, 10, 14, 18, 2}, 3),
            new TrainingExample(new int[] {1, 7, 11, 2}, 2));

    static float train(CausalLm model, int steps) {
        try (CausalLmTrainer trainer = new CausalLmTrainer(model, 0f)) {
            List<Float> losses = new java.util.ArrayList<>();
            for (int i = 0; i < steps; i++) {
                losses.add(trainer.step(EXAMPLES, 3e-3f));
            }
            float first = losses.get(0);
            float last = losses.get(steps - 1);
            assertTrue(last < first * 0.2, "losses " + losses);
            return last;
        }
    }

    @Test
    void theTextTrainerFitsATransformerAndAHybridModel() {
        try (CausalLm nemotron = TestModels.build(TestModels.nemotron(), 3)) {
            train(nemotron, 60);
        }
        HybridConfig hybrid = new HybridConfig(HybridConfig.parsePattern("M*-M"), 4, 8, 8, 2, 4, 3, true, false, 0.0,
                Double.POSITIVE_INFINITY, null);
        ModelConfig c = new ModelConfig("NemotronHForCausalLM", 32, 32, 48, 4, 4, 2, 8, 64, 10000.0, 1.0, null, 1e-5,
                false, false, false, "relu2", 0, List.of(2), hybrid);
        NDManager m = NDManager.newBaseManager();
        try (CausalLm model = CausalLm.build(c, TestModels.jittered(m, 4), m, DataType.FLOAT32)) {
            train(model, 60);
        }
    }

    @Test
    void theImageTrainerFitsAPictureAndItsAnswer() throws Exception {
        Path folder = Path.of("src/test/resources/llava/siglip-old");
        try (NDManager m = NDManager.newBaseManager();
                LlavaModel model = LlavaModel.load(folder, m, DataType.FLOAT32)) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            // Every weight the model asked for, by name, from a second load that records them.
            try (ai.nuri.model.CheckpointWeights weights = new ai.nuri.model.CheckpointWeights(folder, m, DataType.FLOAT32)) {
                WeightSource recording = new WeightSource() {
                    public NDArray tensor(String name, ai.djl.ndarray.types.Shape shape, Init init) {
                        NDArray t = weights.tensor(name, shape, init);
                        if (!name.contains("post_layernorm")) {
                            params.put(name, t);
                        }
                        return t;
                    }

                    public boolean contains(String name) {
                        return weights.contains(name);
                    }
                };
                LlavaModel trainable = LlavaModel.build(model.config(), recording, m, DataType.FLOAT32);
                int image = trainable.config().imageTokenIndex();
                int[] tokens = new int[16 + 6];
                tokens[0] = 5;
                java.util.Arrays.fill(tokens, 1, 17, image);
                tokens[17] = 7;
                tokens[18] = 11;
                tokens[19] = 13;
                tokens[20] = 17;
                tokens[21] = 2;
                float[] pixels = new float[3 * 32 * 32];
                for (int i = 0; i < pixels.length; i++) {
                    pixels[i] = (float) Math.sin(i * 0.1);
                }
                try (LlavaTrainer trainer = new LlavaTrainer(trainable, m, params, 0f)) {
                    List<LlavaTrainer.Example> batch = List.of(new LlavaTrainer.Example(pixels, tokens, 18));
                    float first = trainer.step(batch, 32, 3e-3f);
                    float last = first;
                    for (int i = 1; i < 40; i++) {
                        last = trainer.step(batch, 32, 3e-3f);
                    }
                    assertTrue(last < first * 0.2, "loss " + first + " -> " + last);
                }
            }
        }
    }
}
