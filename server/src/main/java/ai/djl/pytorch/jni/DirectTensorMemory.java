package ai.djl.pytorch.jni;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Nuri's one class inside DJL's package: a CPU tensor's memory as a direct buffer, in one native
 * call. DJL keeps {@code PyTorchLibrary} package-private and its public route
 * ({@code JniUtils.getByteBuffer}) asks device, layout and contiguity first: four more calls per
 * use on a path taken per matrix multiplication. libtorch itself refuses a tensor that is not
 * contiguous (an {@code EngineException}), so a view never hands out memory it does not describe.
 */
public final class DirectTensorMemory {
    private DirectTensorMemory() {}

    /** The contiguous CPU tensor {@code handle}'s bytes, shared, not copied; valid while the tensor lives. */
    public static ByteBuffer of(long handle) {
        return PyTorchLibrary.LIB.torchDirectByteBuffer(handle).order(ByteOrder.nativeOrder());
    }
}
