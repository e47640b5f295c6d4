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
import ai.nuri.model.vision.ImageTokens;
import ai.nuri.model.vision.LlavaConfig;
import ai.nuri.model.vision.LlavaModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A causal language model loaded from a Hugging Face folder, ready to serve: the batched,
 * paged forward pass that the engine calls once per step. It knows nothing of requests.
 */
public final class LanguageModel implements AutoCloseable {
    /** A number of rows fixes {@link #cpuKernelRows()} for models loaded after it is set (0: off); unset: measured. */
    public static final String CPU_KERNEL_ROWS_PROPERTY = LinearsChoice.PROPERTY;
    /** "true": sampled rows are drawn in libtorch ({@link DeviceSampler}) on the CPU too, as they are on a GPU. */
    public static final String DEVICE_SAMPLING_PROPERTY = "nuri.device-sampling";
    private final String id;
    private final Path folder;
    private final CausalLm decoder;
    /** The vision tower and projector of an image+text model; null for a text model. */
    private final LlavaModel vision;
    private final GenerationConfig generationConfig;
    /** Serving steps of up to {@code cpuLinears.maxRows()} rows multiply with it; null: libtorch always. */
    private final VectorLinears cpuLinears;
    private final LogitsReader logitsReader;

    public LanguageModel(String id, Path folder, CausalLm decoder, GenerationConfig generationConfig) {
        this(id, folder, decoder, null, generationConfig);
    }

    private LanguageModel(String id, Path folder, CausalLm decoder, LlavaModel vision, GenerationConfig generationConfig) {
        this.id = id;
        this.folder = folder;
        this.decoder = decoder;
        this.vision = vision;
        this.cpuLinears = LinearsChoice.choose(id, decoder);
        this.logitsReader = new LogitsReader(decoder.config().vocabSize());
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
        if (LlavaConfig.ARCHITECTURE.equals(ModelConfig.readRoot(folder).path("architectures").path(0).asText())) {
            NDManager manager = NDManager.newBaseManager(device);
            try {
                LlavaModel llava = LlavaModel.load(folder, manager, dtype);
                return new LanguageModel(folder.getFileName().toString(), folder, llava.text(), llava,
                        GenerationConfig.read(folder, llava.config().text()));
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
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
     * chunk, the logits of its last token (FP32, vocab-sized), null for a chunk that wants none.
     * Every intermediate array is freed before returning.
     */
    public float[][] forward(List<SequenceChunk> batch, PagedKvCache cache) {
        return forward(batch, cache, null);
    }

    /**
     * One batched step of a model with recurrent layers: as {@link #forward(List, PagedKvCache)},
     * and each chunk's recurrent state advanced in its slot of {@code states}.
     */
    public float[][] forward(List<SequenceChunk> batch, PagedKvCache cache, RecurrentStatePool states) {
        return forward(batch, cache, states, Readout.whole(batch.size())).rows();
    }

    /**
     * One batched step, each chunk's logits read as {@code readout} says: rows reduced to their
     * argmax where the logits are (on a GPU only the ids cross to the heap), the others copied.
     */
    public StepLogits forward(List<SequenceChunk> batch, PagedKvCache cache, RecurrentStatePool states, Readout readout) {
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
            long[] lastRows = new long[batch.size()]; // of the chunks that want logits
            boolean[] wantsLogits = new boolean[batch.size()];
            int wanted = 0;
            int t = 0;
            for (int i = 0; i < batch.size(); i++) {
                SequenceChunk c = batch.get(i);
                for (int j = 0; j < c.tokens().length; j++) {
                    tokens[t] = c.tokens()[j];
                    positions[t++] = c.start() + j;
                }
                wantsLogits[i] = c.wantsLogits();
                if (wantsLogits[i]) {
                    lastRows[wanted++] = t - 1;
                }
            }
            Linears linears = cpuLinears != null && total <= cpuLinears.maxRows() ? cpuLinears : Linears.TORCH;
            if (cpuLinears != null) {
                Torch.singleThreaded(linears == cpuLinears);
            }
            Kernels kernels = new Kernels(new PagedAttention(manager, cache, batch),
                    states == null ? RecurrentKernel.NONE : new PooledRecurrence(manager, states, batch), true, linears);
            NDArray embedded = withImages(decoder.embed(manager.create(tokens)), batch, tokens);
            NDArray hidden = decoder.hiddenStatesFromEmbeddings(embedded, manager.create(positions), kernels);
            if (wanted == 0) { // only prefill chunks short of their prompt's end: no LM head at all
                return new StepLogits(new float[batch.size()][], new int[batch.size()]);
            }
            // A decode-only step wants every row, in order: no gather.
            NDArray rows = wanted == total ? hidden : Rows.take(hidden, manager.create(java.util.Arrays.copyOf(lastRows, wanted)));
            return logitsReader.read(decoder.logits(rows, linears), wantsLogits, readout);
        }
    }

    /** Puts each chunk's image features in place of its image tokens' embeddings. */
    private NDArray withImages(NDArray embedded, List<SequenceChunk> batch, long[] tokens) {
        if (vision == null) {
            return embedded;
        }
        int hidden = decoder.config().hiddenSize();
        int imageToken = vision.config().imageTokenIndex();
        List<Long> rows = new java.util.ArrayList<>();
        float[] values = new float[0];
        int count = 0;
        int offset = 0;
        for (SequenceChunk c : batch) {
            if (c.images() != null) {
                int next = c.images().before();
                int available = c.images().features().length / hidden;
                for (int j = 0; j < c.tokens().length; j++) {
                    // Past the prompt's images (an image token the model generated itself) the plain embedding stays.
                    if (c.tokens()[j] == imageToken && next < available) {
                        rows.add((long) offset + j);
                        if ((count + 1) * hidden > values.length) {
                            values = java.util.Arrays.copyOf(values, Math.max(2 * values.length, (count + 1) * hidden));
                        }
                        System.arraycopy(c.images().features(), next++ * hidden, values, count++ * hidden, hidden);
                    }
                }
            }
            offset += c.tokens().length;
        }
        if (rows.isEmpty()) {
            return embedded;
        }
        NDManager m = embedded.getManager();
        NDArray features = m.create(java.util.Arrays.copyOf(values, count * hidden), new ai.djl.ndarray.types.Shape(count, hidden));
        embedded.set(new ai.djl.ndarray.index.NDIndex("{}", m.create(rows.stream().mapToLong(Long::longValue).toArray())),
                features.toType(embedded.getDataType(), false));
        return embedded;
    }

    /** True for image+text models. */
    public boolean acceptsImages() {
        return vision != null;
    }

    /** The token that stands for one image feature row in a prompt; -1 for text models. */
    public int imageTokenId() {
        return vision == null ? -1 : vision.config().imageTokenIndex();
    }

    /** A rendered prompt with each image placeholder widened to the image's feature rows. */
    public int[] expandImageTokens(int[] rendered) {
        return vision == null ? rendered : ImageTokens.expand(rendered, imageTokenId(), imageTokensPerImage());
    }

    /** Image tokens (feature rows) per image; 0 for text models. */
    public int imageTokensPerImage() {
        return vision == null ? 0 : vision.config().imageTokens();
    }

    /**
     * Encodes preprocessed images ([3 * height * width] each, channels first) as one batch:
     * per image, its [imageTokensPerImage * hidden] feature rows for the decoder (FP32).
     */
    public float[][] encodeImages(List<float[]> pixels, int height, int width) {
        if (vision == null) {
            throw new IllegalStateException(id + " takes no images");
        }
        try (NDScope ignored = new NDScope()) {
            NDManager m = decoder.manager();
            float[] all = new float[pixels.size() * 3 * height * width];
            for (int i = 0; i < pixels.size(); i++) {
                System.arraycopy(pixels.get(i), 0, all, i * 3 * height * width, 3 * height * width);
            }
            NDArray batch = m.create(all, new ai.djl.ndarray.types.Shape(pixels.size(), 3, height, width));
            float[] flat = vision.imageFeatures(batch).toType(DataType.FLOAT32, false).toFloatArray();
            int per = flat.length / pixels.size();
            float[][] out = new float[pixels.size()][];
            for (int i = 0; i < out.length; i++) {
                out[i] = java.util.Arrays.copyOfRange(flat, i * per, (i + 1) * per);
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

    /**
     * Whether a step's caller should have sampled rows drawn where the logits lie ({@link DeviceDraw}):
     * off the CPU, where that saves copying each row's vocabulary to the heap; on the CPU only when
     * {@link #DEVICE_SAMPLING_PROPERTY} says so (the heap sampler needs no sort, and is faster there).
     */
    public boolean samplesOnDevice() {
        return !decoder.manager().getDevice().equals(Device.cpu()) || Boolean.getBoolean(DEVICE_SAMPLING_PROPERTY);
    }

    /** Up to how many rows a step multiplies with Nuri's CPU kernel ({@link LinearsChoice}); 0: libtorch always. */
    public int cpuKernelRows() {
        return cpuLinears == null ? 0 : cpuLinears.maxRows();
    }

    /** The kernel small steps multiply with; null: none. */
    VectorLinears cpuLinears() {
        return cpuLinears;
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
