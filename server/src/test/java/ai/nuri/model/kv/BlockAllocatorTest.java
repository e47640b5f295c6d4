package ai.nuri.model.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BlockAllocatorTest {
    @Test
    void allocatesUntilEmptyAndTakesBlocksBack() {
        BlockAllocator a = new BlockAllocator(3);
        int x = a.allocate();
        int y = a.allocate();
        int z = a.allocate();
        assertEquals(-1, a.allocate());
        assertEquals(3, a.usedBlocks());
        a.release(y);
        assertEquals(y, a.allocate(), "a released block is reused");
        a.release(x);
        a.release(y);
        a.release(z);
        assertEquals(0, a.usedBlocks());
        assertThrows(IllegalStateException.class, () -> a.release(x));
    }

    @Test
    void registeredBlocksAreSharedWithReferenceCounts() {
        BlockAllocator a = new BlockAllocator(4, true);
        int b = a.allocate();
        a.register(b, 42L, keys(42));
        assertEquals(b, a.acquireCached(42L, keys(42)), "a second holder gets the same block");
        assertEquals(-1, a.acquireCached(7L, keys(7)));
        a.release(b);
        assertEquals(1, a.usedBlocks(), "still held by the second holder");
        a.release(b);
        assertEquals(0, a.usedBlocks(), "unheld cached blocks count as free");
        assertEquals(4, a.freeBlocks());
        assertEquals(b, a.acquireCached(42L, keys(42)), "but keep their contents until evicted");
        a.release(b);
    }

    @Test
    void cachedBlocksAreEvictedOldestFirstOnlyWhenTheFreeListIsEmpty() {
        BlockAllocator a = new BlockAllocator(3, true);
        int first = a.allocate();
        int second = a.allocate();
        a.register(first, 1L, keys(1));
        a.register(second, 2L, keys(2));
        a.release(first);  // cached, unheld, oldest
        a.release(second); // cached, unheld
        int fresh = a.allocate();
        assertNotEquals(first, fresh, "the never-used block goes first");
        assertNotEquals(second, fresh);
        assertEquals(first, a.allocate(), "then the least recently released cached block");
        assertEquals(-1, a.acquireCached(1L, keys(1)), "whose prefix is forgotten");
        assertEquals(second, a.acquireCached(2L, keys(2)), "the younger one is still cached");
    }

    @Test
    void withoutPrefixCachingNothingIsRegistered() {
        BlockAllocator a = new BlockAllocator(2, false);
        int b = a.allocate();
        a.register(b, 9L, keys(9));
        assertEquals(-1, a.acquireCached(9L, keys(9)));
    }

    @Test
    void aHitNeedsTheSameContentsNotOnlyTheSameKey() {
        BlockAllocator a = new BlockAllocator(2, true);
        int b = a.allocate();
        a.register(b, 42L, new long[] {5, 6, 7});
        assertEquals(-1, a.acquireCached(42L, new long[] {5, 6, 8}), "a colliding key with other tokens misses");
        assertEquals(b, a.acquireCached(42L, new long[] {5, 6, 7}));
    }

    @Test
    void evictionTakesAPrefixChainFromItsTailNeverOrphaningIt() {
        BlockAllocator a = new BlockAllocator(3, true);
        BlockTable chain = new BlockTable(16);
        chain.reserve(48, a);
        for (int i = 0; i < 3; i++) {
            a.register(chain.block(i), 100 + i, keys(100 + i));
        }
        int head = chain.block(0);
        int middle = chain.block(1);
        int tail = chain.block(2);
        chain.release(a);
        assertEquals(tail, a.allocate(), "the tail goes first");
        assertEquals(head, a.acquireCached(100L, keys(100)), "the head of the chain is still there");
        assertEquals(middle, a.acquireCached(101L, keys(101)), "and so is the block after it");
    }

    private static long[] keys(long seed) {
        return new long[] {seed, seed + 1, seed + 2};
    }
}
