package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Where a model's tensors come from: a checkpoint on disk, or fresh initialisation (training, bench
 * models). The architecture asks for each tensor by its Hugging Face name and expected shape.
 */
public interface WeightSource {
    /**
     * How a freshly initialised tensor starts; a checkpoint ignores it. {@code A_LOG} and
     * {@code DT_BIAS} are Mamba-2's: log(1..heads), and softplus^-1 of time steps drawn
     * log-uniformly from [0.001, 0.1], as transformers initialises them.
     */
    enum Init { NORMAL, ZEROS, ONES, A_LOG, DT_BIAS }

    NDArray tensor(String name, Shape shape, Init init);

    /** Whether the source holds a tensor of this name: how a loader tells two checkpoint layouts apart. */
    default boolean contains(String name) {
        return false;
    }

    /**
     * This source seen through a renaming: a part asks for its tensors by its own names
     * ({@code model.layers.0...}) and gets them from wherever a composite checkpoint keeps them
     * ({@code language_model.model.layers.0...}).
     */
    default WeightSource renamed(java.util.function.UnaryOperator<String> rename) {
        WeightSource outer = this;
        return new WeightSource() {
            public NDArray tensor(String name, Shape shape, Init init) {
                return outer.tensor(rename.apply(name), shape, init);
            }

            public boolean contains(String name) {
                return outer.contains(rename.apply(name));
            }
        };
    }
}
