package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/**
 * Where a step's recurrent (Mamba) state lives and how its tokens split into sequences: dense
 * right-padded sequences from a zero state when training, the state pool when serving. The
 * counterpart of {@link AttentionKernel}; the arithmetic itself is {@link Mamba2Mixer}'s.
 */
public interface RecurrentKernel {
    /**
     * Runs a Mamba-2 mixer's causal convolution and selective scan over the step's T tokens,
     * reading each sequence's state from before the step and keeping its state after it.
     *
     * @param layer the index of this Mamba layer among the model's Mamba layers
     * @param xbc   [T, convDim] the convolution input (x, B and C) from the input projection
     * @param dt    [T, heads] the raw time steps from the input projection
     * @return [T, inner] the scan output (D skip included), FP32
     */
    NDArray scan(int layer, Mamba2Mixer mixer, NDArray xbc, NDArray dt);

    /** For models without Mamba layers. */
    RecurrentKernel NONE = (layer, mixer, xbc, dt) -> {
        throw new IllegalStateException("this model has no recurrent layers");
    };
}
