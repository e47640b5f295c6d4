package ai.nuri.model.kv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The KV pool (vLLM's PagedAttention layout): per layer, one key and one value tensor of
 * [numBlocks * blockSize, kvHeads, headDim], addressed by slot. Sequences own blocks through
 * their {@link BlockTable}s; the tensors themselves are allocated once.
 */
public final class PagedKvCache implements AutoCloseable {
    private final NDManager manager;
    private final int blockSize;
    private final NDArray[] keys;
    private final NDArray[] values;
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
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        Shape shape = new Shape((long) numBlocks * blockSize, kvHeads, headDim);
        for (int i = 0; i < layers; i++) {
            keys[i] = manager.zeros(shape, dtype);
            values[i] = manager.zeros(shape, dtype);
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

    public NDArray keys(int layer) {
        return keys[layer];
    }

    public NDArray values(int layer) {
        return values[layer];
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
