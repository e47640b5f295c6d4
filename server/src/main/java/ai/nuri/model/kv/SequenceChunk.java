package ai.nuri.model.kv;

/**
 * One sequence's share of a forward step: {@code tokens} at positions {@code start ..
 * start + tokens.length - 1}, their keys and values stored through {@code blocks}, and (hybrid
 * models) their recurrent state in slot {@code stateSlot} of the state pool, -1 for none. A decode
 * step is one token; a prefill chunk is many. Earlier positions must already be in the cache and,
 * for a hybrid model, folded into the state. {@code wantsLogits} false (a prefill chunk that does
 * not reach the end of its prompt) skips the LM head for it: nobody samples from it.
 */
public record SequenceChunk(BlockTable blocks, int stateSlot, int[] tokens, int start, ImageRows images, boolean wantsLogits) {
    /** A text chunk of a model without recurrent layers. */
    public SequenceChunk(BlockTable blocks, int[] tokens, int start) {
        this(blocks, -1, tokens, start, null, true);
    }

    /** A text chunk. */
    public SequenceChunk(BlockTable blocks, int stateSlot, int[] tokens, int start) {
        this(blocks, stateSlot, tokens, start, null, true);
    }

    /** A chunk whose last token's logits are wanted. */
    public SequenceChunk(BlockTable blocks, int stateSlot, int[] tokens, int start, ImageRows images) {
        this(blocks, stateSlot, tokens, start, images, true);
    }

    /**
     * The image features of a sequence with images ([image tokens, hidden], all of its images in
     * prompt order), and how many of its image tokens come before this chunk: the chunk's image
     * tokens take the rows from there on.
     */
    public record ImageRows(float[] features, int before) {}

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
