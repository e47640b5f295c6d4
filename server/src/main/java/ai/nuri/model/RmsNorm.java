package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Llama's RMSNorm: y = x / sqrt(mean(x^2) + eps) * weight, the statistics taken in FP32. The
 * epsilon is a tensor made once, and the dtype is known from the weight: each call is its five
 * arithmetic ops and nothing else (no scalar made, no dtype asked).
 */
public record RmsNorm(NDArray weight, float eps, NDArray epsilon, boolean widen) implements Norm {

    public RmsNorm(NDArray weight, float eps) {
        this(weight, eps, weight.getManager().create(eps), weight.getDataType() != DataType.FLOAT32);
    }

    static RmsNorm load(WeightSource w, String prefix, ModelConfig c) {
        return new RmsNorm(w.tensor(prefix + ".weight", new Shape(c.hiddenSize()), WeightSource.Init.ONES),
                (float) c.normEps());
    }

    @Override
    public NDArray apply(NDArray x) {
        return apply(x, false);
    }

    @Override
    public NDArray apply(NDArray x, boolean inference) {
        NDArray x32 = widen ? x.toType(DataType.FLOAT32, false) : x;
        NDArray meanSquare = x32.square().mean(new int[] {-1}, true);
        NDArray normed = x32.div((inference ? meanSquare.addi(epsilon) : meanSquare.add(epsilon)).sqrt());
        // As transformers does: normalise in FP32, cast back, then scale by the weight.
        NDArray cast = widen ? normed.toType(weight.getDataType(), false) : normed;
        return inference ? cast.muli(weight) : cast.mul(weight);
    }
}
