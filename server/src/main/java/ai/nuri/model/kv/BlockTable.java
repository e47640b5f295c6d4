package ai.nuri.model.kv;

import java.util.Arrays;

/**
 * One sequence's blocks in the KV pool, in position order: position p lives in block
 * {@code blocks[p / blockSize]} at offset {@code p % blockSize}.
 */
public final class BlockTable {
    private final int blockSize;
    private int[] blocks = new int[4];
    private int count;

    public BlockTable(int blockSize) {
        this.blockSize = blockSize;
    }

    public int blockSize() {
        return blockSize;
    }

    public int capacity() {
        return count * blockSize;
    }

    /** The flat slot index of a position in the pool's [numBlocks * blockSize] layout. */
    public long slot(int position) {
        int b = position / blockSize;
        if (b >= count) {
            throw new IllegalStateException("position " + position + " is past this table's " + capacity() + " slots");
        }
        return (long) blocks[b] * blockSize + position % blockSize;
    }

    /** Blocks needed beyond those held to store {@code tokens} positions. */
    public int blocksNeeded(int tokens) {
        return Math.max(0, (tokens + blockSize - 1) / blockSize - count);
    }

    /**
     * Grows the table to hold {@code tokens} positions. All or nothing: returns false, holding
     * what it held before, if the pool has too few free blocks.
     */
    public boolean reserve(int tokens, BlockAllocator allocator) {
        int needed = blocksNeeded(tokens);
        if (needed > allocator.freeBlocks()) {
            return false;
        }
        if (count + needed > blocks.length) {
            blocks = Arrays.copyOf(blocks, Math.max(blocks.length * 2, count + needed));
        }
        for (int i = 0; i < needed; i++) {
            blocks[count++] = allocator.allocate();
        }
        return true;
    }

    /** Appends a block already acquired from the pool (a shared, cached prefix block). */
    public void appendShared(int block) {
        if (count == blocks.length) {
            blocks = Arrays.copyOf(blocks, blocks.length * 2);
        }
        blocks[count++] = block;
    }

    /** The pool id of the i-th block. */
    public int block(int i) {
        return blocks[i];
    }

    /**
     * Returns every block to the pool, last first: cached blocks become evictable oldest first, so
     * the tail of a prefix chain goes before its head and no cached block outlives the blocks before
     * it (a lookup walks from the head; a block whose predecessor was evicted could never be hit).
     */
    public void release(BlockAllocator allocator) {
        for (int i = count - 1; i >= 0; i--) {
            allocator.release(blocks[i]);
        }
        count = 0;
    }
}
