package ai.nuri.model;

import ai.djl.ndarray.NDArray;

/**
 * Where a step's keys and values live and which of them each query sees: a dense causal batch
 * when training, the paged KV cache when serving. The rest of the forward pass is the same.
 */
public interface AttentionKernel {
    /**
     * @param layer the decoder layer index
     * @param q     [T, heads * headDim] for the step's T tokens, rotary applied
     * @param k     [T, kvHeads * headDim], rotary applied
     * @param v     [T, kvHeads * headDim]
     * @param heads the layer's query heads, key/value heads and head size
     * @return [T, heads * headDim]
     */
    NDArray attend(int layer, NDArray q, NDArray k, NDArray v, Heads heads);

    /** An attention layer's head counts and head size. */
    record Heads(int query, int keyValue, int size) {
        /** Query heads that share each key/value head. */
        public int group() {
            return query / keyValue;
        }
    }
}
