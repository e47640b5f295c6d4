package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** The feed-forward block of a decoder layer. */
public interface Mlp {
    NDArray apply(NDArray x);
}
