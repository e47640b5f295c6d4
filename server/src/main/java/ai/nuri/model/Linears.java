package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/**
 * How a step multiplies activations by a weight matrix: libtorch, or on the CPU for a few rows
 * Nuri's own kernel ({@link VectorLinears}), whichever measured faster on this machine. Serving
 * chooses per step by the number of rows; training always takes libtorch (autograd).
 */
public interface Linears {
    /**
     * @param x      [R, in] contiguous rows
     * @param weight [out, in] in Hugging Face layout
     * @return [R, out] = x weightᵀ
     */
    NDArray apply(NDArray x, NDArray weight);

    /** libtorch's linear (addmm against the transposed weight, no transpose copy). */
    Linears TORCH = (x, weight) -> ai.djl.nn.core.Linear.linear(x, weight).singletonOrThrow();

    /**
     * Whether the JVM can run {@link VectorLinears}: the Vector API is an incubator module, present
     * only when the JVM was started with {@code --add-modules jdk.incubator.vector}.
     */
    static boolean vectorKernelAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }
}
