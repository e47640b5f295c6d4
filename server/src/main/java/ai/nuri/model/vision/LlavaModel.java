package ai.nuri.model.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.CausalLm;
import ai.nuri.model.CheckpointWeights;
import ai.nuri.model.ModelLoadException;
import ai.nuri.model.Projection;
import ai.nuri.model.WeightSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * LlavaForConditionalGeneration: a vision tower, a two-layer projector into the text model's
 * width, and a text decoder (any {@link CausalLm}). The features of the selected tower hidden
 * states (class token dropped under "default", several layers side by side) are projected and put
 * in place of the image tokens' embeddings before the decoder runs.
 *
 * <p>Weights are read in both layouts found in the wild: the older {@code language_model.model.*},
 * {@code vision_tower.*}, {@code multi_modal_projector.*}, {@code language_model.lm_head.*}, and
 * the newer {@code model.language_model.*}, {@code model.vision_tower.*},
 * {@code model.multi_modal_projector.*}, {@code lm_head.*}.
 */
public final class LlavaModel implements AutoCloseable {
    private final LlavaConfig config;
    private final VisionTower tower;
    private final Projection linear1;
    private final Projection linear2;
    private final CausalLm text;

    private LlavaModel(LlavaConfig config, VisionTower tower, Projection linear1, Projection linear2, CausalLm text) {
        this.config = config;
        this.tower = tower;
        this.linear1 = linear1;
        this.linear2 = linear2;
        this.text = text;
    }

    public static LlavaModel build(LlavaConfig c, WeightSource w, NDManager manager, DataType dtype) {
        boolean older = w.contains("language_model.model.embed_tokens.weight");
        String root = older ? "" : "model.";
        WeightSource textWeights = w.renamed(name -> {
            if (name.startsWith("model.")) {
                return (older ? "language_model.model." : "model.language_model.") + name.substring("model.".length());
            }
            return older && name.equals("lm_head.weight") ? "language_model.lm_head.weight" : name;
        });
        CausalLm text = CausalLm.build(c.text(), textWeights, manager, dtype);
        VisionTower tower = VisionTower.load(w, root + "vision_tower.vision_model", c.vision());
        int hidden = c.text().hiddenSize();
        String p = root + "multi_modal_projector";
        return new LlavaModel(c, tower, Projection.load(w, p + ".linear_1", c.projectorInput(), hidden, c.projectorBias()),
                Projection.load(w, p + ".linear_2", hidden, hidden, c.projectorBias()), text);
    }

    /** Loads a model folder; every tensor of the checkpoint must be used. */
    public static LlavaModel load(Path folder, NDManager manager, DataType dtype) {
        Path file = folder.resolve("config.json");
        LlavaConfig config;
        try {
            config = LlavaConfig.parse(ai.nuri.model.ModelConfig.readRoot(folder));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file + ": " + e.getMessage(), e);
        }
        try (CheckpointWeights weights = new CheckpointWeights(folder, manager, dtype)) {
            LlavaModel model = build(config, weights, manager, dtype);
            weights.checkAllUsed();
            return model;
        }
    }

    /**
     * @param pixels [B, 3, imageSize, imageSize] preprocessed images
     * @return [B, imageTokens, textHidden] what replaces each image's tokens
     */
    public NDArray imageFeatures(NDArray pixels) {
        List<NDArray> states = tower.hiddenStates(pixels);
        List<NDArray> selected = new ArrayList<>();
        for (int layer : config.featureLayers()) {
            NDArray s = states.get(layer < 0 ? states.size() + layer : layer);
            selected.add(config.dropClassToken() ? s.get(":, 1:") : s);
        }
        NDArray features = selected.size() == 1 ? selected.get(0) : NDArrays.concat(new NDList(selected), 2);
        return linear2.apply(Activations.apply(config.projectorActivation(), linear1.apply(features)));
    }

    /**
     * As {@link #embedWithImages}, differentiably (for training): the rows are gathered from the
     * token embeddings and the features rather than written in place.
     *
     * @param tokens   [B * L] token ids, right-padded sequences
     * @param features [B * imageTokens, textHidden], each sequence's image rows in order
     */
    public NDArray embedForTraining(long[] tokens, NDArray features) {
        NDManager m = features.getManager();
        NDArray text = this.text.embed(m.create(tokens));
        long[] rows = new long[tokens.length];
        int image = 0;
        for (int i = 0; i < tokens.length; i++) {
            rows[i] = tokens[i] == config.imageTokenIndex() ? tokens.length + image++ : i;
        }
        if (image != features.getShape().get(0)) {
            throw new IllegalArgumentException(image + " image tokens for " + features.getShape().get(0) + " feature rows");
        }
        return text.concat(features.toType(text.getDataType(), false), 0).get(m.create(rows));
    }

    /**
     * The decoder's input embeddings for {@code tokens}, the image tokens' rows replaced by
     * {@code features} ([n, textHidden], images in prompt order).
     */
    public NDArray embedWithImages(int[] tokens, NDArray features) {
        NDManager m = features.getManager();
        long[] ids = new long[tokens.length];
        List<Long> imageRows = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            ids[i] = tokens[i];
            if (tokens[i] == config.imageTokenIndex()) {
                imageRows.add((long) i);
            }
        }
        if (imageRows.size() != features.getShape().get(0)) {
            throw new IllegalArgumentException("the prompt has " + imageRows.size() + " image tokens for "
                    + features.getShape().get(0) + " image feature rows");
        }
        NDArray x = text.embed(m.create(ids));
        if (!imageRows.isEmpty()) {
            x.set(new NDIndex("{}", m.create(imageRows.stream().mapToLong(Long::longValue).toArray())),
                    features.toType(x.getDataType(), false));
        }
        return x;
    }

    public LlavaConfig config() {
        return config;
    }

    public CausalLm text() {
        return text;
    }

    @Override
    public void close() {
        text.close();
    }
}
