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

    private static final int DEFAULT_THREADS = JniUtils.getNumThreads();
    private static int threads = DEFAULT_THREADS;

    /**
     * libtorch's intra-op threads: all of them ({@code single} false), or one, for a step whose
     * matrix multiplications run on Nuri's own kernel: its threads need the cores, and libtorch's
     * OpenMP workers spin on them for a while after every op (measured here: a kernel twice as fast
     * as libtorch alone made the step no faster). The elementwise ops of a few rows gain nothing from
     * threads. A native call only when it changes. Process-wide for MKL: call from the engine thread.
     */
    public static synchronized void singleThreaded(boolean single) {
        int wanted = single ? 1 : DEFAULT_THREADS;
        if (wanted != threads) {
            JniUtils.setNumThreads(wanted);
            threads = wanted;
        }
    }

    /** torch.softmax(x, axis) of an FP32 array. */
    public static NDArray softmax(NDArray x, int axis) {
        return JniUtils.softmax((PtNDArray) x, axis, DataType.FLOAT32);
    }
}
