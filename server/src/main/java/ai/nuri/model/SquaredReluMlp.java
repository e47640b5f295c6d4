package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** Nemotron's MLP: down(relu(up(x))^2). No gate. */
public record SquaredReluMlp(Projection up, Projection down) implements Mlp {

    static SquaredReluMlp load(WeightSource w, String prefix, ModelConfig c) {
        return new SquaredReluMlp(
                Projection.load(w, prefix + ".up_proj", c.hiddenSize(), c.intermediateSize(), c.mlpBias()),
                Projection.load(w, prefix + ".down_proj", c.intermediateSize(), c.hiddenSize(), c.mlpBias()));
    }

    @Override
    public NDArray apply(NDArray x) {
        return down.apply(Activation.relu(up.apply(x)).square());
    }
}
