package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/**
 * The recurrent kernel for a dense batch of B sequences of L tokens each (right-padded), every one
 * starting from a zero state: training, and a cache-free reference. Padding sits after the real
 * tokens, so it never reaches them.
 */
public record DenseRecurrence(int batch, int length) implements RecurrentKernel {
    @Override
    public NDArray scan(int layer, Mamba2Mixer mixer, NDArray xbc, NDArray dt) {
        NDArray y = mixer.sequence(xbc.reshape(batch, length, -1), dt.reshape(batch, length, -1), null, null).y();
        return y.reshape((long) batch * length, -1);
    }
}
