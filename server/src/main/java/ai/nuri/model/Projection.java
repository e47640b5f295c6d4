package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** A linear layer in Hugging Face layout: weight [out, in], optional bias [out]; y = x W^T + b. */
public record Projection(NDArray weight, NDArray bias) {

    public static Projection load(WeightSource w, String prefix, long in, long out, boolean hasBias) {
        NDArray weight = w.tensor(prefix + ".weight", new ai.djl.ndarray.types.Shape(out, in), WeightSource.Init.NORMAL);
        NDArray bias = hasBias ? w.tensor(prefix + ".bias", new ai.djl.ndarray.types.Shape(out), WeightSource.Init.ZEROS) : null;
        return new Projection(weight, bias);
    }

    public NDArray apply(NDArray x) {
        // One fused torch linear call (addmm with the transposed weight), no explicit transpose copy.
        return bias == null
                ? ai.djl.nn.core.Linear.linear(x, weight).singletonOrThrow()
                : ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
    }

    /** As {@link #apply(NDArray)}, multiplied by {@code linears} (serving: the step's choice). */
    public NDArray apply(NDArray x, Linears linears) {
        if (linears == Linears.TORCH) {
            return apply(x);
        }
        NDArray y = linears.apply(x, weight);
        return bias == null ? y : y.addi(bias);
    }
}
