package ai.nuri.model.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
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
        int length = batch.stream().mapToInt(e -> e.tokens().length).max().orElseThrow() - 1;
        int b = batch.size();
        long[] inputs = new long[b * length];
        long[] positions = new long[b * length];
        long[] targets = new long[b * length];
        float[] weights = new float[b * length];
        float[] pixels = new float[b * 3 * imageSize * imageSize];
        for (int i = 0; i < b; i++) {
            Example e = batch.get(i);
            System.arraycopy(e.pixels(), 0, pixels, i * e.pixels().length, e.pixels().length);
            for (int t = 0; t < length; t++) {
                int row = i * length + t;
                positions[row] = t;
                if (t + 1 < e.tokens().length) {
                    inputs[row] = e.tokens()[t];
                    targets[row] = e.tokens()[t + 1];
                    weights[row] = t + 1 >= e.targetStart() ? 1f : 0f;
                }
            }
        }
        float loss;
        try (NDScope ignored = new NDScope()) {
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray features = model.imageFeatures(manager.create(pixels, new Shape(b, 3, imageSize, imageSize)));
                NDArray embedded = model.embedForTraining(inputs, features.reshape(-1, features.getShape().get(2)));
                NDArray hidden = model.text().hiddenStatesFromEmbeddings(embedded, manager.create(positions),
                        Kernels.dense(manager, b, length));
                NDArray logProbs = model.text().logits(hidden).logSoftmax(-1);
                NDArray picked = logProbs.mul(manager.create(targets).oneHot(model.config().text().vocabSize(),
                        DataType.FLOAT32)).sum(new int[] {1});
                NDArray mask = manager.create(weights);
                NDArray mean = picked.mul(mask).sum().neg().div(mask.sum());
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
