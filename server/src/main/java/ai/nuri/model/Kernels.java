package ai.nuri.model;

import ai.djl.ndarray.NDManager;

/**
 * The two places a step's sequences keep their history: keys and values, and recurrent state;
 * and how it multiplies by weights. {@code inference} true lets layers overwrite their own
 * temporaries in place (one native call and one array fewer per op); only where nothing records
 * gradients: serving, not training. {@code linears} other than libtorch's only when serving.
 */
public record Kernels(AttentionKernel attention, RecurrentKernel recurrent, boolean inference, Linears linears) {

    public Kernels {
        if (!inference && linears != Linears.TORCH) {
            throw new IllegalArgumentException("training multiplies through libtorch (autograd)");
        }
    }

    public Kernels(AttentionKernel attention, RecurrentKernel recurrent, boolean inference) {
        this(attention, recurrent, inference, Linears.TORCH);
    }

    public Kernels(AttentionKernel attention, RecurrentKernel recurrent) {
        this(attention, recurrent, false);
    }

    /** B right-padded sequences of L tokens each, from an empty history: training and references. */
    public static Kernels dense(NDManager manager, int batch, int length) {
        return new Kernels(new CausalAttention(manager, batch, length), new DenseRecurrence(batch, length));
    }
}
