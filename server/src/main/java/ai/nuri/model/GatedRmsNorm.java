package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;

/**
 * Mamba-2's output norm: the scan output is gated by silu(z) first, then RMS-normalised within
 * groups of {@code groupSize} channels (one group per B/C group), then scaled. All in FP32.
 */
public record GatedRmsNorm(NDArray weight, int groupSize, float eps) {

    /**
     * @param y    [T, inner] scan output
     * @param gate [T, inner] the z branch of the input projection
     */
    public NDArray apply(NDArray y, NDArray gate) {
        long t = y.getShape().get(0);
        long inner = y.getShape().get(1);
        NDArray z = gate.toType(DataType.FLOAT32, false);
        NDArray gated = y.toType(DataType.FLOAT32, false).mul(z.mul(Activation.sigmoid(z)));
        NDArray grouped = gated.reshape(t, inner / groupSize, groupSize);
        NDArray inverseRms = grouped.square().mean(new int[] {-1}, true).add(eps).sqrt().pow(-1);
        return grouped.mul(inverseRms).reshape(t, inner).mul(weight.toType(DataType.FLOAT32, false));
    }
}
