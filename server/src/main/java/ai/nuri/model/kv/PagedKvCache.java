package ai.nuri.model.kv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The KV pool (vLLM's PagedAttention layout): per layer, one key and one value tensor of
 * [numBlocks * blockSize, kvHeads, headDim], addressed by slot. Sequences own blocks through
 * their {@link BlockTable}s; the tensors themselves are allocated once. Each tensor has two views
 * sharing its memory: by slot ([slots, kvHeads * headDim], how a step's new keys are written, one
 * row per token) and by head ([slots * kvHeads, headDim], how attention gathers each key/value
 * head's history already in the order its matrix multiplication reads, with no transpose copy).
 */
public final class PagedKvCache implements AutoCloseable {
    private final NDManager manager;
    private final int blockSize;
    private final int kvHeads;
    private final int headDim;
    private final DataType dtype;
    private final NDArray[] keyRows;
    private final NDArray[] keyHeads;
    private final NDArray[] valueRows;
    private final NDArray[] valueHeads;
    private final BlockAllocator allocator;

    public PagedKvCache(NDManager parent, int layers, int kvHeads, int headDim, int numBlocks, int blockSize,
            DataType dtype) {
        this(parent, layers, kvHeads, headDim, numBlocks, blockSize, dtype, false);
    }

    public PagedKvCache(NDManager parent, int layers, int kvHeads, int headDim, int numBlocks, int blockSize,
            DataType dtype, boolean prefixCaching) {
        if (numBlocks <= 0 || blockSize <= 0) {
            throw new IllegalArgumentException("numBlocks and blockSize must be positive");
        }
        this.manager = parent.newSubManager();
        this.blockSize = blockSize;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.dtype = dtype;
        this.keyRows = new NDArray[layers];
        this.keyHeads = new NDArray[layers];
        this.valueRows = new NDArray[layers];
        this.valueHeads = new NDArray[layers];
        long slots = (long) numBlocks * blockSize;
        Shape byHead = new Shape(slots * kvHeads, headDim);
        for (int i = 0; i < layers; i++) {
            keyHeads[i] = manager.zeros(byHead, dtype);
            keyRows[i] = keyHeads[i].reshape(slots, (long) kvHeads * headDim);
            valueHeads[i] = manager.zeros(byHead, dtype);
            valueRows[i] = valueHeads[i].reshape(slots, (long) kvHeads * headDim);
        }
        this.allocator = new BlockAllocator(numBlocks, prefixCaching);
    }

    public int blockSize() {
        return blockSize;
    }

    public BlockAllocator allocator() {
        return allocator;
    }

    public BlockTable newBlockTable() {
        return new BlockTable(blockSize);
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    /** A layer's keys by slot: [slots, kvHeads * headDim]. */
    public NDArray keyRows(int layer) {
        return keyRows[layer];
    }

    /** A layer's keys by head: row {@code slot * kvHeads + head} of [slots * kvHeads, headDim]. */
    public NDArray keyHeads(int layer) {
        return keyHeads[layer];
    }

    /** A layer's values by slot, as {@link #keyRows}. */
    public NDArray valueRows(int layer) {
        return valueRows[layer];
    }

    /** A layer's values by head, as {@link #keyHeads}. */
    public NDArray valueHeads(int layer) {
        return valueHeads[layer];
    }

    public DataType dtype() {
        return dtype;
    }

    /** Fraction of blocks in use, 0..1. */
    public double usage() {
        return (double) allocator.usedBlocks() / allocator.totalBlocks();
    }

    /** Bytes per block across all layers (keys and values). */
    public static long bytesPerBlock(int layers, int kvHeads, int headDim, int blockSize, DataType dtype) {
        return 2L * layers * blockSize * kvHeads * headDim * dtype.getNumOfBytes();
    }

    @Override
    public void close() {
        manager.close();
    }
}
