package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.DirectTensorMemory;
import ai.nuri.model.safetensors.DTypeConversions;
import ai.nuri.model.safetensors.SafetensorsDType;
import ai.nuri.model.safetensors.SafetensorsException;
import ai.nuri.model.safetensors.SafetensorsFile;
import ai.nuri.model.safetensors.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * A checkpoint tensor read straight into the memory of a fresh CPU tensor: the file's bytes are
 * read into the tensor itself (a dtype it keeps) or into a small per-thread buffer and widened into
 * it (BF16 to FP32), the tensor's range split across the cores. Each byte is copied once or twice,
 * where creating an array from a buffer and converting it copies three or four times, on one
 * thread. Only for PyTorch CPU tensors whose dtype needs no conversion in libtorch;
 * {@link #resultType} says which, and {@link CheckpointWeights} takes its own path for the rest.
 */
final class HostTensorLoad {
    /** Bytes read per copy from the file (and the size of each thread's buffer for widening). */
    private static final int CHUNK_BYTES = 8 << 20;
    /** Tensors under this are read on the calling thread alone: forking costs more than it gains. */
    private static final long PARALLEL_BYTES = 4L << 20;
    /** A tensor's memory is handed out as direct buffers of at most this (a Java buffer's limit is 2 GiB). */
    private static final long WINDOW_BYTES = 1L << 30;

    private HostTensorLoad() {}

    /** The dtype the tensor is created with, or null where this path does not apply. */
    static DataType resultType(NDManager manager, SafetensorsDType stored, DataType target) {
        if (!(manager.getDevice().equals(ai.djl.Device.cpu()) && manager.getEngine().getEngineName().equals("PyTorch")
                && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN)) { // the file's order, copied as it is
            return null;
        }
        DataType kept = switch (stored) {
            case F32, BF16 -> DataType.FLOAT32; // BF16 is widened in Java: libtorch aborts the JVM on BFLOAT16 arrays
            case F16 -> DataType.FLOAT16;
            case F64 -> DataType.FLOAT64;
            default -> null;
        };
        return target == null || target == kept ? kept : null;
    }

    static NDArray load(SafetensorsFile file, TensorInfo info, NDManager manager, DataType result)
            throws SafetensorsException {
        NDArray out = manager.create(new Shape(info.shape()), result);
        try {
            long count = info.elementCount();
            if (count > 0) {
                fill(file, info, out, count);
            }
            return out;
        } catch (SafetensorsException | RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private static void fill(SafetensorsFile file, TensorInfo info, NDArray out, long count) throws SafetensorsException {
        int outBytes = out.getDataType().getNumOfBytes();
        long perWindow = WINDOW_BYTES / outBytes;
        if (count <= perWindow) {
            fillWindow(file, info, memory(out), 0, (int) count);
            return;
        }
        try (NDArray flat = out.reshape(count)) { // a view: shares out's memory
            for (long start = 0; start < count; start += perWindow) {
                int n = (int) Math.min(perWindow, count - start);
                try (NDArray window = flat.get(new NDIndex("{}:{}", start, start + n))) {
                    fillWindow(file, info, memory(window), start, n);
                }
            }
        }
    }

    private static ByteBuffer memory(NDArray array) {
        return DirectTensorMemory.of(((PtNDArray) array).getHandle());
    }

    /** Fills {@code destination} (n elements) with the tensor's elements from {@code first}, in parts across the cores. */
    private static void fillWindow(SafetensorsFile file, TensorInfo info, ByteBuffer destination, long first, int n)
            throws SafetensorsException {
        long sourceBytes = (long) n * info.dtype().bytes();
        int parts = sourceBytes < PARALLEL_BYTES ? 1
                : (int) Math.min(ForkJoinPool.getCommonPoolParallelism() + 1L, sourceBytes / (PARALLEL_BYTES / 2));
        // Every part is waited for, failed or not, before anything is thrown: the caller closes the
        // tensor on failure, and a part still writing into freed memory would crash the process.
        List<ForkJoinTask<Void>> others = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            int from = partStart(n, p, parts);
            int to = partStart(n, p + 1, parts);
            others.add(ForkJoinPool.commonPool().submit(() -> {
                fillPart(file, info, destination, first, from, to);
                return null;
            }));
        }
        Throwable failure = null;
        try { // part 0 on this thread
            fillPart(file, info, destination, first, 0, partStart(n, 1, parts));
        } catch (SafetensorsException | RuntimeException e) {
            failure = e;
        }
        for (ForkJoinTask<Void> part : others) {
            part.quietlyJoin();
            if (failure == null && part.isCompletedAbnormally()) {
                failure = part.getException();
            }
        }
        if (failure instanceof SafetensorsException e) {
            throw e;
        } else if (failure instanceof RuntimeException e) {
            throw e;
        } else if (failure instanceof Error e) {
            throw e;
        }
    }

    /** Where part p of {@code parts} equal parts of n elements starts. */
    private static int partStart(int n, int p, int parts) {
        return (int) ((long) n * p / parts);
    }

    /** Elements [from, to) of the window starting at the tensor's element {@code first}. */
    private static void fillPart(SafetensorsFile file, TensorInfo info, ByteBuffer destination, long first, int from, int to)
            throws SafetensorsException {
        int inBytes = info.dtype().bytes();
        boolean widen = info.dtype() == SafetensorsDType.BF16;
        int outBytes = widen ? 4 : inBytes;
        int perChunk = CHUNK_BYTES / inBytes;
        ByteBuffer scratch = widen
                ? ByteBuffer.allocateDirect(Math.min(perChunk, to - from) * inBytes).order(ByteOrder.LITTLE_ENDIAN)
                : null;
        for (int at = from; at < to; at += perChunk) {
            int n = Math.min(perChunk, to - at);
            ByteBuffer target = destination.duplicate().position(at * outBytes).limit((at + n) * outBytes);
            long offset = (first + at) * inBytes;
            if (widen) {
                scratch.clear().limit(n * inBytes);
                file.read(info.name(), offset, scratch);
                scratch.flip();
                DTypeConversions.bf16ToFloat32(scratch, target.slice().order(ByteOrder.nativeOrder()), n);
            } else {
                file.read(info.name(), offset, target); // stored little-endian, as this CPU keeps it
            }
        }
    }
}
