package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** Nemotron's MLP: down(relu(up(x))^2). No gate. */
public record SquaredReluMlp(Projection up, Projection down) implements Mlp {

    static SquaredReluMlp load(WeightSource w, String prefix, ModelConfig c) {
        return load(w, prefix, c.hiddenSize(), c.intermediateSize(), c.mlpBias());
    }

    static SquaredReluMlp load(WeightSource w, String prefix, int hidden, int intermediate, boolean bias) {
        return new SquaredReluMlp(
                Projection.load(w, prefix + ".up_proj", hidden, intermediate, bias),
                Projection.load(w, prefix + ".down_proj", intermediate, hidden, bias));
    }

    @Override
    public NDArray apply(NDArray x) {
        return down.apply(Activation.relu(up.apply(x)).square());
    }

    @Override
    public NDArray apply(NDArray x, Kernels kernels) {
        return down.apply(Activation.relu(up.apply(x, kernels.linears())).square(), kernels.linears());
    }
}
