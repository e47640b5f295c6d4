package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;

/**
 * Nemotron's "layernorm1p": a LayerNorm whose stored weight is offset by one, so
 * y = (x - mean) / sqrt(var + eps) * (weight + 1) + bias. A zero-initialised weight is the identity
 * scale. Computed in FP32 whatever the model dtype.
 */
public record LayerNorm1P(NDArray weight, NDArray bias, float eps) implements Norm {

    static LayerNorm1P load(WeightSource w, String prefix, ModelConfig c) {
        Shape shape = new Shape(c.hiddenSize());
        return new LayerNorm1P(w.tensor(prefix + ".weight", shape, WeightSource.Init.ZEROS),
                w.tensor(prefix + ".bias", shape, WeightSource.Init.ZEROS), (float) c.normEps());
    }

    @Override
    public NDArray apply(NDArray x) {
        DataType type = x.getDataType();
        NDArray x32 = x.toType(DataType.FLOAT32, false);
        NDArray gamma = weight.toType(DataType.FLOAT32, false).add(1f);
        NDArray beta = bias.toType(DataType.FLOAT32, false);
        NDArray y = LayerNorm.layerNorm(x32, new Shape(weight.getShape().get(0)), gamma, beta, eps).singletonOrThrow();
        return y.toType(type, false);
    }
}
