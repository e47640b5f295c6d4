package ai.nuri.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.kv.PagedAttention;
import ai.nuri.model.kv.PagedKvCache;
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
    private final DecoderModel decoder;
    private final GenerationConfig generationConfig;

    public LanguageModel(String id, Path folder, DecoderModel decoder, GenerationConfig generationConfig) {
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
            Architecture.forName(config.architecture()).validate(config);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(folder.resolve("config.json") + ": " + e.getMessage(), e);
        }
        GenerationConfig generation = GenerationConfig.read(folder, config);
        NDManager manager = NDManager.newBaseManager(device);
        try (CheckpointWeights weights = new CheckpointWeights(folder, manager, dtype)) {
            DecoderModel decoder = DecoderModel.build(config, weights, manager, dtype);
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

    /** A KV pool for this model, sharing full prompt blocks between sequences if {@code prefixCaching}. */
    public PagedKvCache newKvCache(int numBlocks, int blockSize, boolean prefixCaching) {
        ModelConfig c = decoder.config();
        return new PagedKvCache(decoder.manager(), c.numLayers(), c.numKvHeads(), c.headDim(), numBlocks, blockSize,
                decoder.dtype(), prefixCaching);
    }

    /**
     * One batched step: stores every chunk's keys and values in {@code cache} and returns, per
     * chunk, the logits of its last token (FP32, vocab-sized). Every intermediate array is freed
     * before returning.
     */
    public float[][] forward(List<SequenceChunk> batch, PagedKvCache cache) {
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
            PagedAttention attention = new PagedAttention(manager, cache, batch);
            NDArray hidden = decoder.hiddenStates(manager.create(tokens), manager.create(positions), attention);
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

    public DecoderModel decoder() {
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
