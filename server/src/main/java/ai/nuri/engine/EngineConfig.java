package ai.nuri.engine;

/**
 * The engine's budgets: sequences per step, tokens per step (prefill chunks and decode tokens
 * together), the KV pool, the waiting queue, the longest sequence (prompt plus output) and, for
 * hybrid models, the recurrent-state slots (sequences whose Mamba state fits at once).
 */
public record EngineConfig(int maxNumSeqs, int maxNumBatchedTokens, int kvCacheBlocks, int blockSize,
        int maxWaiting, int maxModelLen, boolean prefixCaching, int stateSlots) {
    /** As many state slots as sequences per step. */
    public EngineConfig(int maxNumSeqs, int maxNumBatchedTokens, int kvCacheBlocks, int blockSize, int maxWaiting,
            int maxModelLen, boolean prefixCaching) {
        this(maxNumSeqs, maxNumBatchedTokens, kvCacheBlocks, blockSize, maxWaiting, maxModelLen, prefixCaching,
                maxNumSeqs);
    }

    /** Prefix caching on, as vLLM has it by default. */
    public EngineConfig(int maxNumSeqs, int maxNumBatchedTokens, int kvCacheBlocks, int blockSize, int maxWaiting,
            int maxModelLen) {
        this(maxNumSeqs, maxNumBatchedTokens, kvCacheBlocks, blockSize, maxWaiting, maxModelLen, true);
    }

    public EngineConfig {
        if (maxNumSeqs < 1 || maxNumBatchedTokens < 1 || kvCacheBlocks < 1 || blockSize < 1 || maxWaiting < 0
                || maxModelLen < 2 || stateSlots < 1) {
            throw new IllegalArgumentException("engine budgets must be positive");
        }
    }

    /** One sequence at a time with room for a whole context: the CLI and benchmarks. */
    public static EngineConfig singleStream(int maxModelLen) {
        int blockSize = 16;
        return new EngineConfig(1, 512, (maxModelLen + blockSize - 1) / blockSize + 1, blockSize, 16, maxModelLen, true);
    }
}
