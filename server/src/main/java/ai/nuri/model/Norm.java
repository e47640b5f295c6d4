package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** A normalisation over the last (hidden) axis. */
public interface Norm {
    NDArray apply(NDArray x);
}
