package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The few libtorch ops the decode step calls straight, because DJL's wrappers first ask libtorch
 * for each operand's shape or dtype (a native call each, on arrays whose shape the caller knows):
 * {@code matMul} checks that neither operand is a scalar, {@code softmax} asks the dtype. Nuri
 * runs on DJL's PyTorch engine only.
 */
public final class Torch {
    private Torch() {}

    /** torch.matmul(a, b). */
    public static NDArray matMul(NDArray a, NDArray b) {
        return JniUtils.matmul((PtNDArray) a, (PtNDArray) b);
    }

    /** torch.softmax(x, axis) of an FP32 array. */
    public static NDArray softmax(NDArray x, int axis) {
        return JniUtils.softmax((PtNDArray) x, axis, DataType.FLOAT32);
    }
}
