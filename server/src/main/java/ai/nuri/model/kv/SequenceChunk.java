package ai.nuri.model.kv;

/**
 * One sequence's share of a forward step: {@code tokens} at positions {@code start ..
 * start + tokens.length - 1}, their keys and values stored through {@code blocks}. A decode step
 * is one token; a prefill chunk is many. Earlier positions must already be in the cache.
 */
public record SequenceChunk(BlockTable blocks, int[] tokens, int start) {
    public SequenceChunk {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a chunk needs at least one token");
        }
        if (blocks.capacity() < start + tokens.length) {
            throw new IllegalArgumentException("block table holds " + blocks.capacity() + " positions, chunk needs "
                    + (start + tokens.length));
        }
    }

    /** Context length once this chunk is in the cache. */
    public int end() {
        return start + tokens.length;
    }
}
