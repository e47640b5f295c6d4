package ai.nuri.model.kv;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The KV pool's blocks: a free list, reference counts, and the prefix cache (vLLM's automatic
 * prefix caching). A full block whose contents are known is registered under the hash of its
 * token prefix; sequences with the same prefix then share it instead of recomputing it. When
 * the last holder releases a registered block it stays cached, evictable in least-recently-used
 * order, and is reclaimed only when the free list is empty. Every operation is O(1) per block.
 *
 * <p>The cache is shared by every client, so a hit also compares the block's contents: a key that
 * collides (by chance or crafted, the class of vLLM's CVE-2025-25183) never hands one client's keys
 * and values to another's different prompt.
 */
public final class BlockAllocator {
    private final int[] free;
    private int freeCount;
    private final int[] references;
    private final long[] hashOf;
    private final boolean[] hashed;
    /** What each registered block holds (one key per position), compared on every hit. */
    private final long[][] contentsOf;
    private final Map<Long, Integer> cached = new HashMap<>();
    /** Registered blocks nobody holds, oldest first. */
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>();
    private final boolean prefixCaching;

    public BlockAllocator(int numBlocks, boolean prefixCaching) {
        free = new int[numBlocks];
        references = new int[numBlocks];
        hashOf = new long[numBlocks];
        hashed = new boolean[numBlocks];
        contentsOf = new long[numBlocks][];
        for (int i = 0; i < numBlocks; i++) {
            free[i] = numBlocks - 1 - i; // hand out block 0 first: easier to read in a debugger
        }
        freeCount = numBlocks;
        this.prefixCaching = prefixCaching;
    }

    public BlockAllocator(int numBlocks) {
        this(numBlocks, false);
    }

    public boolean prefixCaching() {
        return prefixCaching;
    }

    /** A block for new contents, or -1 if none is left. Evicts the oldest unused cached block if needed. */
    public int allocate() {
        int block;
        if (freeCount > 0) {
            block = free[--freeCount];
        } else if (!evictable.isEmpty()) {
            block = evictable.iterator().next();
            evictable.remove(block);
            cached.remove(hashOf[block]);
            hashed[block] = false;
            contentsOf[block] = null;
        } else {
            return -1;
        }
        references[block] = 1;
        return block;
    }

    /**
     * The cached block holding the prefix with this hash and exactly these contents (the block's own
     * positions; earlier blocks were matched before it), now also held by the caller; -1 if none.
     */
    public int acquireCached(long prefixHash, long[] contents) {
        Integer block = cached.get(prefixHash);
        if (block == null || !java.util.Arrays.equals(contentsOf[block], contents)) {
            return -1;
        }
        if (references[block] == 0) {
            evictable.remove(block);
        }
        references[block]++;
        return block;
    }

    /**
     * Records that {@code block} now holds the full block {@code contents} (one key per position),
     * whose whole prefix hashes to {@code prefixHash}.
     */
    public void register(int block, long prefixHash, long[] contents) {
        if (!prefixCaching || hashed[block] || cached.containsKey(prefixHash)) {
            return; // already registered, or another block already holds the same prefix
        }
        hashed[block] = true;
        hashOf[block] = prefixHash;
        contentsOf[block] = contents.clone();
        cached.put(prefixHash, block);
    }

    public void release(int block) {
        if (references[block] <= 0) {
            throw new IllegalStateException("block " + block + " released twice");
        }
        if (--references[block] == 0) {
            if (hashed[block]) {
                evictable.add(block);
            } else {
                free[freeCount++] = block;
            }
        }
    }

    /** Blocks available for new contents: free ones and cached ones nobody holds. */
    public int freeBlocks() {
        return freeCount + evictable.size();
    }

    public int totalBlocks() {
        return free.length;
    }

    /** Blocks held by sequences (cached blocks nobody holds do not count: they can be reclaimed). */
    public int usedBlocks() {
        return free.length - freeBlocks();
    }
}
