package ai.nuri.model.kv;

/**
 * The free list of a KV cache's blocks. Allocation and release are O(1) per block; no block's
 * contents are ever copied.
 */
public final class BlockAllocator {
    private final int[] free;
    private final boolean[] inUse;
    private int freeCount;

    public BlockAllocator(int numBlocks) {
        free = new int[numBlocks];
        inUse = new boolean[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            free[i] = numBlocks - 1 - i; // hand out block 0 first: easier to read in a debugger
        }
        freeCount = numBlocks;
    }

    /** A free block's id, or -1 if none is left. */
    public int allocate() {
        if (freeCount == 0) {
            return -1;
        }
        int block = free[--freeCount];
        inUse[block] = true;
        return block;
    }

    public void release(int block) {
        if (!inUse[block]) {
            throw new IllegalStateException("block " + block + " released twice");
        }
        inUse[block] = false;
        free[freeCount++] = block;
    }

    public int freeBlocks() {
        return freeCount;
    }

    public int totalBlocks() {
        return free.length;
    }

    public int usedBlocks() {
        return free.length - freeCount;
    }
}
