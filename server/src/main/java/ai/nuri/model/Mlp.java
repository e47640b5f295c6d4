package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** The feed-forward block of a decoder layer. */
public interface Mlp {
    NDArray apply(NDArray x);

    /** As {@link #apply(NDArray)}; {@code inference} true allows overwriting its own temporaries. */
    default NDArray apply(NDArray x, boolean inference) {
        return apply(x);
    }
}
