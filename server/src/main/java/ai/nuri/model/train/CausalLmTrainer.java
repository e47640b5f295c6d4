package ai.nuri.model.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
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
        NextTokenBatch packed = NextTokenBatch.of(batch);
        float loss;
        NDManager manager = model.manager();
        try (NDScope ignored = new NDScope()) {
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray hidden = model.hiddenStates(manager.create(packed.inputs()), manager.create(packed.positions()),
                        Kernels.dense(manager, packed.batch(), packed.length()));
                NDArray mean = packed.loss(model.logits(hidden), manager);
                collector.backward(mean);
                loss = mean.getFloat();
            }
            // A batch whose loss or gradients are not finite is skipped, as LlavaTrainer does: one such step
            // (seen intermittently in CI on the hybrid test model) turned every weight into NaN.
            float norm = optimizer.clipGradients(Float.POSITIVE_INFINITY);
            if (!Float.isFinite(loss) || !Float.isFinite(norm)) {
                optimizer.zeroGradients();
                return loss;
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
