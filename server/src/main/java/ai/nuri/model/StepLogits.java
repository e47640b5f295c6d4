package ai.nuri.model;

/**
 * What a step read of its logits, per chunk: {@code rows[i]}, the whole FP32 row, or for a row
 * reduced on the device ({@link Readout#reduces}) {@code argmax[i]}: its most likely token (lowest
 * id among equals) outside the excluded ones or the token drawn for it ({@link DeviceDraw}), or
 * {@link #NOT_FINITE} when the row holds NaN or +infinity (the copied row would have shown it).
 * Both are empty for a chunk that wants none.
 */
public record StepLogits(float[][] rows, int[] argmax) {
    public static final int NOT_FINITE = -1;
}
