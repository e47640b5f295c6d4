package ai.nuri.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.kv.PagedAttention;
import ai.nuri.model.kv.PagedKvCache;
import ai.nuri.model.kv.PooledRecurrence;
import ai.nuri.model.kv.RecurrentStatePool;
import ai.nuri.model.kv.SequenceChunk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A causal language model loaded from a Hugging Face folder, ready to serve: the batched,
 * paged forward pass that the engine calls once per step. It knows nothing of requests.
 */
public final class LanguageModel implements AutoCloseable {
    private final String id;
    private final Path folder;
    private final CausalLm decoder;
    private final GenerationConfig generationConfig;

    public LanguageModel(String id, Path folder, CausalLm decoder, GenerationConfig generationConfig) {
        this.id = id;
        this.folder = folder;
        this.decoder = decoder;
        this.generationConfig = generationConfig;
    }

    /**
     * Loads a model folder. Either the whole model loads or nothing stays allocated: a bad file
     * throws {@link ModelLoadException} naming it.
     */
    public static LanguageModel load(Path folder, Device device, DataType dtype) {
        if (!Files.isDirectory(folder)) {
            throw new ModelLoadException(folder + ": not a model folder");
        }
        if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT16) {
            throw new IllegalArgumentException("dtype must be float32 or float16, not " + dtype);
        }
        ModelConfig config = ModelConfig.read(folder);
        try {
            if (!config.isHybrid()) {
                Architecture.forName(config.architecture()).validate(config);
            }
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(folder.resolve("config.json") + ": " + e.getMessage(), e);
        }
        GenerationConfig generation = GenerationConfig.read(folder, config);
        NDManager manager = NDManager.newBaseManager(device);
        try (CheckpointWeights weights = new CheckpointWeights(folder, manager, dtype)) {
            CausalLm decoder;
            try {
                decoder = CausalLm.build(config, weights, manager, dtype);
            } catch (IllegalArgumentException e) {
                throw new ModelLoadException(folder.resolve("config.json") + ": " + e.getMessage(), e);
            }
            weights.checkAllUsed();
            return new LanguageModel(folder.getFileName().toString(), folder, decoder, generation);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    public static LanguageModel load(Path folder) {
        return load(folder, Device.cpu(), DataType.FLOAT32);
    }

    /** A KV pool for this model. */
    public PagedKvCache newKvCache(int numBlocks, int blockSize) {
        return newKvCache(numBlocks, blockSize, false);
    }

    /** A KV pool for this model's attention layers, sharing full prompt blocks if {@code prefixCaching}. */
    public PagedKvCache newKvCache(int numBlocks, int blockSize, boolean prefixCaching) {
        ModelConfig c = decoder.config();
        return new PagedKvCache(decoder.manager(), decoder.attentionLayers(), c.numKvHeads(), c.headDim(), numBlocks,
                blockSize, decoder.dtype(), prefixCaching);
    }

    /** Bytes of KV cache per token, over the attention layers. */
    public long kvBytesPerToken() {
        ModelConfig c = decoder.config();
        return PagedKvCache.bytesPerBlock(decoder.attentionLayers(), c.numKvHeads(), c.headDim(), 1, decoder.dtype());
    }

    /** True if sequences carry recurrent state (Mamba layers) besides their KV cache. */
    public boolean hasRecurrentState() {
        return decoder.recurrentLayers() > 0;
    }

    /** Bytes of recurrent state per sequence, whatever its length; 0 for a pure transformer. */
    public long stateBytesPerSequence() {
        ModelConfig c = decoder.config();
        return hasRecurrentState() ? RecurrentStatePool.bytesPerSlot(decoder.recurrentLayers(),
                Mamba2Mixer.convStateShape(c.hybrid()), Mamba2Mixer.ssmStateShape(c.hybrid())) : 0;
    }

    /** A recurrent-state pool of {@code slots} sequences; null for a model without recurrent layers. */
    public RecurrentStatePool newStatePool(int slots) {
        return newStatePool(slots, true);
    }

    /** As {@link #newStatePool(int)}; {@code fusedDecode} false keeps decode on torch ops even on the CPU. */
    public RecurrentStatePool newStatePool(int slots, boolean fusedDecode) {
        if (!hasRecurrentState()) {
            return null;
        }
        ModelConfig c = decoder.config();
        return new RecurrentStatePool(decoder.manager(), decoder.recurrentLayers(), Mamba2Mixer.convStateShape(c.hybrid()),
                Mamba2Mixer.ssmStateShape(c.hybrid()), slots, fusedDecode);
    }

    /**
     * One batched step: stores every chunk's keys and values in {@code cache} and returns, per
     * chunk, the logits of its last token (FP32, vocab-sized). Every intermediate array is freed
     * before returning.
     */
    public float[][] forward(List<SequenceChunk> batch, PagedKvCache cache) {
        return forward(batch, cache, null);
    }

    /**
     * One batched step of a model with recurrent layers: as {@link #forward(List, PagedKvCache)},
     * and each chunk's recurrent state advanced in its slot of {@code states}.
     */
    public float[][] forward(List<SequenceChunk> batch, PagedKvCache cache, RecurrentStatePool states) {
        if (hasRecurrentState() && states == null) {
            throw new IllegalArgumentException("a model with Mamba layers needs a recurrent-state pool");
        }
        NDManager manager = decoder.manager();
        try (NDScope ignored = new NDScope()) {
            int total = 0;
            for (SequenceChunk c : batch) {
                total += c.tokens().length;
            }
            long[] tokens = new long[total];
            long[] positions = new long[total];
            long[] lastRows = new long[batch.size()];
            int t = 0;
            for (int i = 0; i < batch.size(); i++) {
                SequenceChunk c = batch.get(i);
                for (int j = 0; j < c.tokens().length; j++) {
                    tokens[t] = c.tokens()[j];
                    positions[t++] = c.start() + j;
                }
                lastRows[i] = t - 1;
            }
            Kernels kernels = new Kernels(new PagedAttention(manager, cache, batch),
                    states == null ? RecurrentKernel.NONE : new PooledRecurrence(manager, states, batch));
            NDArray hidden = decoder.hiddenStates(manager.create(tokens), manager.create(positions), kernels);
            NDArray logits = decoder.logits(hidden.get(manager.create(lastRows))).toType(DataType.FLOAT32, false);
            float[] flat = logits.toFloatArray();
            int vocab = decoder.config().vocabSize();
            float[][] out = new float[batch.size()][];
            for (int i = 0; i < out.length; i++) {
                out[i] = java.util.Arrays.copyOfRange(flat, i * vocab, (i + 1) * vocab);
            }
            return out;
        }
    }

    public String id() {
        return id;
    }

    public Path folder() {
        return folder;
    }

    public ModelConfig config() {
        return decoder.config();
    }

    public CausalLm decoder() {
        return decoder;
    }

    public GenerationConfig generationConfig() {
        return generationConfig;
    }

    /** Arrays currently held by this model (weights, KV pools, anything leaked): for leak tests. */
    public int liveArrayCount() {
        return ((ai.djl.ndarray.BaseNDManager) decoder.manager()).getManagedArrays().size();
    }

    @Override
    public void close() {
        decoder.close();
    }
}
