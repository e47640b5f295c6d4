package ai.nuri.model.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.nuri.model.CausalLm;
import ai.nuri.model.Kernels;
import java.util.List;

/**
 * Next-token training of a {@link CausalLm} with DJL autograd: the forward pass is the model's
 * own {@code hiddenStates}, with dense kernels (causal attention, recurrence from a zero state) instead of the paged ones.
 * Sequences in a batch are right-padded; padding and prompt positions carry no loss.
 */
public final class CausalLmTrainer implements AutoCloseable {
    private final CausalLm model;
    private final AdamW optimizer;

    public CausalLmTrainer(CausalLm model, float weightDecay) {
        this.model = model;
        model.parameters().values().forEach(p -> p.setRequiresGradient(true));
        this.optimizer = new AdamW(model.parameters(), model.manager(), 0.9f, 0.98f, 1e-8f, weightDecay);
    }

    /** One optimisation step on {@code batch}; returns the mean loss per target token. */
    public float step(List<TrainingExample> batch, float learningRate) {
        int length = batch.stream().mapToInt(e -> e.tokens().length).max().orElseThrow() - 1;
        int b = batch.size();
        long[] inputs = new long[b * length];
        long[] positions = new long[b * length];
        long[] targets = new long[b * length];
        float[] weights = new float[b * length];
        for (int i = 0; i < b; i++) {
            TrainingExample e = batch.get(i);
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
        NDManager manager = model.manager();
        try (NDScope ignored = new NDScope()) {
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray hidden = model.hiddenStates(manager.create(inputs), manager.create(positions),
                        Kernels.dense(manager, b, length));
                NDArray logProbs = model.logits(hidden).logSoftmax(-1);
                NDArray picked = logProbs.mul(manager.create(targets).oneHot(model.config().vocabSize(),
                        DataType.FLOAT32)).sum(new int[] {1});
                NDArray mask = manager.create(weights);
                NDArray mean = picked.mul(mask).sum().neg().div(mask.sum());
                collector.backward(mean);
                loss = mean.getFloat();
            }
            optimizer.step(learningRate);
        }
        return loss;
    }

    @Override
    public void close() {
        optimizer.close();
        model.parameters().values().forEach(p -> p.setRequiresGradient(false));
    }
}
