package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** The feed-forward block of a decoder layer. */
public interface Mlp {
    NDArray apply(NDArray x);

    /**
     * As {@link #apply(NDArray)}, with the step's {@code kernels}: when serving, it may overwrite
     * its own temporaries and multiply as the step chose.
     */
    NDArray apply(NDArray x, Kernels kernels);
}
