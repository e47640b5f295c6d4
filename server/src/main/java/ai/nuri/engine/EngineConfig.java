package ai.nuri.engine;

/**
 * The engine's budgets: sequences per step, tokens per step (prefill chunks and decode tokens
 * together), the KV pool, the waiting queue and the longest sequence (prompt plus output).
 */
public record EngineConfig(int maxNumSeqs, int maxNumBatchedTokens, int kvCacheBlocks, int blockSize,
        int maxWaiting, int maxModelLen, boolean prefixCaching) {
    /** Prefix caching on, as vLLM has it by default. */
    public EngineConfig(int maxNumSeqs, int maxNumBatchedTokens, int kvCacheBlocks, int blockSize, int maxWaiting,
            int maxModelLen) {
        this(maxNumSeqs, maxNumBatchedTokens, kvCacheBlocks, blockSize, maxWaiting, maxModelLen, true);
    }

    public EngineConfig {
        if (maxNumSeqs < 1 || maxNumBatchedTokens < 1 || kvCacheBlocks < 1 || blockSize < 1 || maxWaiting < 0
                || maxModelLen < 2) {
            throw new IllegalArgumentException("engine budgets must be positive");
        }
    }

    /** One sequence at a time with room for a whole context: the CLI and benchmarks. */
    public static EngineConfig singleStream(int maxModelLen) {
        int blockSize = 16;
        return new EngineConfig(1, 512, (maxModelLen + blockSize - 1) / blockSize + 1, blockSize, 16, maxModelLen, true);
    }
}
