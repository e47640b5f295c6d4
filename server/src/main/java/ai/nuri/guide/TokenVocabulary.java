package ai.nuri.guide;

import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model's vocabulary as the constraint walk sees it: each token's bytes in a trie, so that the
 * tokens allowed in a grammar state are found by one walk that drops a whole subtree at the first
 * byte the grammar refuses. Masks are cached per (grammar, walk state), bounded in bytes; a grammar
 * state met again costs one lookup. Not thread-safe: one engine thread uses it.
 */
public final class TokenVocabulary {
    private final int size;
    private final byte[][] pieces;
    // The trie: node 0 is the root; children as first-child / next-sibling lists.
    private int[] firstChild;
    private int[] nextSibling;
    private byte[] label;
    private int[] tokenAt; // a token ending at this node, or -1
    private int nodes;
    private final Map<Integer, int[]> sameBytes = new java.util.HashMap<>(); // more tokens with a node's bytes
    private final Map<MaskKey, long[]> masks;
    private long maskLookups;
    private long maskHits;

    private record MaskKey(Grammar grammar, long walk) {}

    /**
     * @param pieces   each token id's bytes (length = the model's vocabulary size; null or empty for ids
     *                 that have no text, such as padding rows)
     * @param excluded ids never allowed under a constraint (special tokens; end-of-sequence is decided apart)
     * @param cacheBytes how much memory cached masks may take
     */
    public TokenVocabulary(byte[][] pieces, BitSet excluded, long cacheBytes) {
        this.size = pieces.length;
        this.pieces = pieces;
        int capacity = 1024;
        firstChild = new int[capacity];
        nextSibling = new int[capacity];
        label = new byte[capacity];
        tokenAt = new int[capacity];
        nodes = 1;
        firstChild[0] = -1;
        nextSibling[0] = -1;
        tokenAt[0] = -1;
        for (int id = 0; id < pieces.length; id++) {
            if (pieces[id] != null && pieces[id].length > 0 && !excluded.get(id)) {
                insert(id, pieces[id]);
            }
        }
        long maskBytes = 8L * words();
        int entries = (int) Math.max(64, Math.min(1_000_000, cacheBytes / maskBytes));
        this.masks = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<MaskKey, long[]> eldest) {
                return size() > entries;
            }
        };
    }

    private void insert(int id, byte[] bytes) {
        int node = 0;
        for (byte b : bytes) {
            int child = firstChild[node];
            while (child >= 0 && label[child] != b) {
                child = nextSibling[child];
            }
            if (child < 0) {
                child = newNode(b);
                nextSibling[child] = firstChild[node];
                firstChild[node] = child;
            }
            node = child;
        }
        if (tokenAt[node] < 0) {
            tokenAt[node] = id;
        } else {
            int[] more = sameBytes.getOrDefault(node, new int[0]);
            more = Arrays.copyOf(more, more.length + 1);
            more[more.length - 1] = id;
            sameBytes.put(node, more);
        }
    }

    private int newNode(byte b) {
        if (nodes == label.length) {
            int c = nodes * 2;
            firstChild = Arrays.copyOf(firstChild, c);
            nextSibling = Arrays.copyOf(nextSibling, c);
            label = Arrays.copyOf(label, c);
            tokenAt = Arrays.copyOf(tokenAt, c);
        }
        int n = nodes++;
        label[n] = b;
        firstChild[n] = -1;
        nextSibling[n] = -1;
        tokenAt[n] = -1;
        return n;
    }

    /** The vocabulary size: the length of a logits row. */
    public int size() {
        return size;
    }

    int words() {
        return (size + 63) >>> 6;
    }

    /** Trie nodes (one per distinct token prefix). */
    public int trieNodes() {
        return nodes;
    }

    /** The tokens that may come next from {@code walk}: bit i of the mask is token i. Do not modify it. */
    long[] allowed(Grammar grammar, long walk) {
        maskLookups++;
        MaskKey key = new MaskKey(grammar, walk);
        long[] mask = masks.get(key);
        if (mask == null) {
            mask = computeMask(grammar, walk);
            masks.put(key, mask);
        } else {
            maskHits++;
        }
        return mask;
    }

    /** The walk after all of {@code token}'s bytes, or {@link Utf8Walk#DEAD}. */
    long advance(Grammar grammar, long walk, int token) {
        byte[] bytes = token >= 0 && token < size ? pieces[token] : null;
        if (bytes == null || bytes.length == 0) {
            return Utf8Walk.DEAD;
        }
        for (byte b : bytes) {
            walk = Utf8Walk.step(grammar, walk, b & 0xFF);
            if (walk == Utf8Walk.DEAD) {
                return walk;
            }
        }
        return walk;
    }

    private long[] computeMask(Grammar grammar, long walk) {
        long[] mask = new long[words()];
        int[] stackNode = new int[64];
        long[] stackWalk = new long[64];
        int top = 0;
        stackNode[top] = 0;
        stackWalk[top++] = walk;
        while (top > 0) {
            top--;
            int node = stackNode[top];
            long from = stackWalk[top];
            for (int child = firstChild[node]; child >= 0; child = nextSibling[child]) {
                long next = Utf8Walk.step(grammar, from, label[child] & 0xFF);
                if (next == Utf8Walk.DEAD) {
                    continue;
                }
                int id = tokenAt[child];
                if (id >= 0) {
                    mask[id >>> 6] |= 1L << id;
                    int[] more = sameBytes.get(child);
                    if (more != null) {
                        for (int m : more) {
                            mask[m >>> 6] |= 1L << m;
                        }
                    }
                }
                if (firstChild[child] >= 0) {
                    if (top == stackNode.length) {
                        stackNode = Arrays.copyOf(stackNode, top * 2);
                        stackWalk = Arrays.copyOf(stackWalk, top * 2);
                    }
                    stackNode[top] = child;
                    stackWalk[top++] = next;
                }
            }
        }
        return mask;
    }

    /** Mask lookups so far and how many found a cached mask. */
    public long[] cacheStats() {
        return new long[] {maskLookups, maskHits};
    }
}
