package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Llama's RMSNorm: y = x / sqrt(mean(x^2) + eps) * weight, the statistics taken in FP32. */
public record RmsNorm(NDArray weight, float eps) implements Norm {

    static RmsNorm load(WeightSource w, String prefix, ModelConfig c) {
        return new RmsNorm(w.tensor(prefix + ".weight", new Shape(c.hiddenSize()), WeightSource.Init.ONES),
                (float) c.normEps());
    }

    @Override
    public NDArray apply(NDArray x) {
        DataType type = x.getDataType();
        NDArray x32 = x.toType(DataType.FLOAT32, false);
        NDArray inverseRms = x32.square().mean(new int[] {-1}, true).add(eps).sqrt().pow(-1);
        // As transformers does: normalise in FP32, cast back, then scale by the weight.
        return x32.mul(inverseRms).toType(type, false).mul(weight);
    }
}
