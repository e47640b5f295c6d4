package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** Llama's MLP: down(silu(gate(x)) * up(x)). */
public record SwiGluMlp(Projection gate, Projection up, Projection down) implements Mlp {

    static SwiGluMlp load(WeightSource w, String prefix, ModelConfig c) {
        return new SwiGluMlp(
                Projection.load(w, prefix + ".gate_proj", c.hiddenSize(), c.intermediateSize(), c.mlpBias()),
                Projection.load(w, prefix + ".up_proj", c.hiddenSize(), c.intermediateSize(), c.mlpBias()),
                Projection.load(w, prefix + ".down_proj", c.intermediateSize(), c.hiddenSize(), c.mlpBias()));
    }

    @Override
    public NDArray apply(NDArray x) {
        NDArray g = gate.apply(x);
        NDArray silu = g.mul(Activation.sigmoid(g));
        return down.apply(silu.mul(up.apply(x)));
    }

    @Override
    public NDArray apply(NDArray x, Kernels kernels) {
        if (kernels.inference()) {
            Linears linears = kernels.linears();
            NDArray g = gate.apply(x, linears);
            return down.apply(g.muli(Activation.sigmoid(g)).muli(up.apply(x, linears)), linears);
        }
        NDArray g = gate.apply(x);
        NDArray silu = g.mul(Activation.sigmoid(g));
        return down.apply(silu.mul(up.apply(x)));
    }
}
