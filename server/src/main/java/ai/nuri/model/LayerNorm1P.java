package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;

/**
 * Nemotron's "layernorm1p": a LayerNorm whose stored weight is offset by one, so
 * y = (x - mean) / sqrt(var + eps) * (weight + 1) + bias. A zero-initialised weight is the identity
 * scale. Computed in FP32 whatever the model dtype. The one is a tensor made once and the dtype is
 * known from the weight, so a call makes no scalar and asks no dtype; weight + 1 is still taken
 * per call, so training sees the weight itself.
 */
public record LayerNorm1P(NDArray weight, NDArray bias, float eps, NDArray one, Shape normalized, boolean widen)
        implements Norm {

    public LayerNorm1P(NDArray weight, NDArray bias, float eps) {
        this(weight, bias, eps, weight.getManager().create(1f), new Shape(weight.getShape().get(0)),
                weight.getDataType() != DataType.FLOAT32);
    }

    static LayerNorm1P load(WeightSource w, String prefix, ModelConfig c) {
        Shape shape = new Shape(c.hiddenSize());
        return new LayerNorm1P(w.tensor(prefix + ".weight", shape, WeightSource.Init.ZEROS),
                w.tensor(prefix + ".bias", shape, WeightSource.Init.ZEROS), (float) c.normEps());
    }

    @Override
    public NDArray apply(NDArray x) {
        if (!widen) {
            return LayerNorm.layerNorm(x, normalized, weight.add(one), bias, eps).singletonOrThrow();
        }
        NDArray gamma = weight.toType(DataType.FLOAT32, false).add(one);
        NDArray beta = bias.toType(DataType.FLOAT32, false);
        NDArray y = LayerNorm.layerNorm(x.toType(DataType.FLOAT32, false), normalized, gamma, beta, eps)
                .singletonOrThrow();
        return y.toType(weight.getDataType(), false);
    }
}
