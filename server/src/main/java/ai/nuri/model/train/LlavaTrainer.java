package ai.nuri.model.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.nuri.model.Kernels;
import ai.nuri.model.vision.LlavaModel;
import java.util.List;
import java.util.Map;

/**
 * Trains a {@link LlavaModel} end to end with DJL autograd (tower, projector and decoder), on
 * examples of one image each, through the same forward code that serves it. Loss on the answer
 * tokens only.
 */
public final class LlavaTrainer implements AutoCloseable {
    /** One image ([3, size, size] preprocessed) and its token sequence (image tokens expanded). */
    public record Example(float[] pixels, int[] tokens, int targetStart) {}

    private final LlavaModel model;
    private final NDManager manager;
    private final Map<String, NDArray> parameters;
    private final AdamW optimizer;
    private int skipped;

    public LlavaTrainer(LlavaModel model, NDManager manager, Map<String, NDArray> parameters, float weightDecay) {
        this.model = model;
        this.manager = manager;
        this.parameters = parameters;
        parameters.values().forEach(p -> p.setRequiresGradient(true));
        this.optimizer = new AdamW(parameters, manager, 0.9f, 0.98f, 1e-8f, weightDecay);
    }

    /** One optimisation step; returns the mean loss per answer token, NaN for a skipped step. */
    public float step(List<Example> batch, int imageSize, float learningRate) {
        NextTokenBatch packed = NextTokenBatch.of(batch.stream()
                .map(e -> new TrainingExample(e.tokens(), e.targetStart())).toList());
        int b = batch.size();
        float[] pixels = new float[b * 3 * imageSize * imageSize];
        for (int i = 0; i < b; i++) {
            float[] p = batch.get(i).pixels();
            System.arraycopy(p, 0, pixels, i * p.length, p.length);
        }
        float loss;
        try (NDScope ignored = new NDScope()) {
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray features = model.imageFeatures(manager.create(pixels, new Shape(b, 3, imageSize, imageSize)));
                NDArray embedded = model.embedForTraining(packed.inputs(), features.reshape(-1, features.getShape().get(2)));
                NDArray hidden = model.text().hiddenStatesFromEmbeddings(embedded, manager.create(packed.positions()),
                        Kernels.dense(manager, b, packed.length()));
                NDArray mean = packed.loss(model.text().logits(hidden), manager);
                collector.backward(mean);
                loss = mean.getFloat();
            }
            // Clipped to norm 1; a batch whose loss or gradients are not finite is skipped, not learned from
            // (unguarded, one such batch turned every weight into NaN).
            float norm = optimizer.clipGradients(1.0f);
            if (!Float.isFinite(loss) || !Float.isFinite(norm)) {
                optimizer.zeroGradients();
                skipped++;
                return Float.NaN;
            }
            optimizer.step(learningRate);
        }
        return loss;
    }

    /** Steps skipped because their loss or gradients were not finite. */
    public int skipped() {
        return skipped;
    }

    @Override
    public void close() {
        optimizer.close();
        parameters.values().forEach(p -> p.setRequiresGradient(false));
    }
}
