package ai.nuri.model;

import ai.djl.ndarray.NDManager;

/** The two places a step's sequences keep their history: keys and values, and recurrent state. */
public record Kernels(AttentionKernel attention, RecurrentKernel recurrent) {

    /** B right-padded sequences of L tokens each, from an empty history: training and references. */
    public static Kernels dense(NDManager manager, int batch, int length) {
        return new Kernels(new CausalAttention(manager, batch, length), new DenseRecurrence(batch, length));
    }
}
