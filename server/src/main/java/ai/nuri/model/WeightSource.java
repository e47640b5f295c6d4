package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Where a model's tensors come from: a checkpoint on disk, or fresh initialisation (training, bench
 * models). The architecture asks for each tensor by its Hugging Face name and expected shape.
 */
public interface WeightSource {
    /** How a freshly initialised tensor starts; a checkpoint ignores it. */
    enum Init { NORMAL, ZEROS, ONES }

    NDArray tensor(String name, Shape shape, Init init);
}
