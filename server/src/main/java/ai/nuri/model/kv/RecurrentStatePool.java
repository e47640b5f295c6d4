package ai.nuri.model.kv;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The recurrent state of a hybrid model's Mamba layers, next to the paged KV cache: per layer one
 * convolution-state tensor [slots + 1, convDim, K-1] and one SSM-state tensor
 * [slots + 1, heads, headDim, stateSize], FP32, allocated once. A running sequence holds one slot
 * for its whole life; its state has a fixed size whatever the context length. The extra last row
 * is never written and stays zero: a sequence at position 0 reads its initial state from it.
 *
 * <p>On the CPU the SSM tensors' memory is also handed out as {@link FloatBuffer}s (the same
 * bytes, no copy), so that decode can update states in place in one fused pass.
 */
public final class RecurrentStatePool implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] conv;
    private final NDArray[] ssm;
    /** The SSM tensors' own memory, for fused in-place decode; null off the CPU or when not wanted. */
    private final FloatBuffer[] ssmMemory;
    private final BlockAllocator slots;
    private final int numSlots;

    public RecurrentStatePool(NDManager parent, int layers, Shape convState, Shape ssmState, int numSlots) {
        this(parent, layers, convState, ssmState, numSlots, parent.getDevice().equals(Device.cpu()));
    }

    /** With {@code fusedDecode} false, decode uses torch ops even on the CPU (to test one path against the other). */
    public RecurrentStatePool(NDManager parent, int layers, Shape convState, Shape ssmState, int numSlots,
            boolean fusedDecode) {
        if (numSlots <= 0) {
            throw new IllegalArgumentException("the state pool needs at least one slot");
        }
        this.manager = parent.newSubManager();
        this.numSlots = numSlots;
        this.conv = new NDArray[layers];
        this.ssm = new NDArray[layers];
        for (int i = 0; i < layers; i++) {
            conv[i] = manager.zeros(new Shape(numSlots + 1L).addAll(convState), DataType.FLOAT32);
            ssm[i] = manager.zeros(new Shape(numSlots + 1L).addAll(ssmState), DataType.FLOAT32);
        }
        boolean direct = fusedDecode && parent.getDevice().equals(Device.cpu()) && ssm.length > 0
                && ssm[0] instanceof PtNDArray;
        this.ssmMemory = direct ? new FloatBuffer[layers] : null;
        for (int i = 0; direct && i < layers; i++) {
            ssmMemory[i] = ((PtNDArray) ssm[i]).toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
        this.slots = new BlockAllocator(numSlots);
    }

    /** Bytes one sequence's state takes across all layers. */
    public static long bytesPerSlot(int layers, Shape convState, Shape ssmState) {
        return 4L * layers * (convState.size() + ssmState.size());
    }

    /** A free slot, or -1. Its contents are stale: a sequence starting at position 0 never reads them. */
    public int allocate() {
        return slots.allocate();
    }

    public void release(int slot) {
        slots.release(slot);
    }

    public int freeSlots() {
        return slots.freeBlocks();
    }

    public int totalSlots() {
        return numSlots;
    }

    /** The always-zero row that sequences at position 0 read. */
    public int zeroRow() {
        return numSlots;
    }

    public NDArray convStates(int layer) {
        return conv[layer];
    }

    public NDArray ssmStates(int layer) {
        return ssm[layer];
    }

    /** The memory of {@link #ssmStates} as floats, shared, or null where decode must use torch ops. */
    public FloatBuffer ssmMemory(int layer) {
        return ssmMemory == null ? null : ssmMemory[layer];
    }

    /** Fraction of slots in use, 0..1. */
    public double usage() {
        return (double) slots.usedBlocks() / numSlots;
    }

    @Override
    public void close() {
        manager.close();
    }
}
