package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/** A normalisation over the last (hidden) axis. */
public interface Norm {
    NDArray apply(NDArray x);

    /** As {@link #apply(NDArray)}; {@code inference} true allows overwriting its own temporaries. */
    default NDArray apply(NDArray x, boolean inference) {
        return apply(x);
    }
}
