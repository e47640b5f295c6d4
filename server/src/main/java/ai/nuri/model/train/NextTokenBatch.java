package ai.nuri.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.List;

/**
 * Examples packed for next-token training: B sequences right-padded to one length L, each row's
 * input token, position and target, and a weight that is 1 only where the target is part of
 * the answer (from {@code targetStart} on). Shared by the text and the image+text trainers.
 */
record NextTokenBatch(int batch, int length, long[] inputs, long[] positions, long[] targets, float[] weights) {

    static NextTokenBatch of(List<TrainingExample> examples) {
        int length = examples.stream().mapToInt(e -> e.tokens().length).max().orElseThrow() - 1;
        int b = examples.size();
        long[] inputs = new long[b * length];
        long[] positions = new long[b * length];
        long[] targets = new long[b * length];
        float[] weights = new float[b * length];
        for (int i = 0; i < b; i++) {
            TrainingExample e = examples.get(i);
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
        return new NextTokenBatch(b, length, inputs, positions, targets, weights);
    }

    /** Mean negative log-likelihood of the answer targets, from [B * L, vocab] logits. */
    NDArray loss(NDArray logits, NDManager manager) {
        long vocab = logits.getShape().get(1);
        NDArray picked = logits.logSoftmax(-1).mul(manager.create(targets).oneHot((int) vocab, DataType.FLOAT32))
                .sum(new int[] {1});
        NDArray mask = manager.create(weights);
        return picked.mul(mask).sum().neg().div(mask.sum());
    }
}
