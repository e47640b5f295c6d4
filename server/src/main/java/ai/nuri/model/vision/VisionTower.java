package ai.nuri.model.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;
import ai.nuri.model.GroupedAttention;
import ai.nuri.model.Projection;
import ai.nuri.model.WeightSource;
import java.util.ArrayList;
import java.util.List;

/**
 * A CLIP or SigLIP vision transformer, as transformers defines them: patches embedded by a strided
 * convolution, CLIP's class token, learned position embeddings, CLIP's {@code pre_layrnorm}, then
 * pre-norm encoder layers (full attention with biases; an MLP with the tower's activation).
 * {@link #hiddenStates} returns what transformers returns with {@code output_hidden_states}: the
 * encoder's input, then each layer's output. {@code post_layernorm} is loaded (it is in every
 * checkpoint) but LLaVA never applies it.
 */
public final class VisionTower {
    private record Norm(NDArray weight, NDArray bias, float eps) {
        static Norm load(WeightSource w, String prefix, VisionConfig c) {
            Shape s = new Shape(c.hiddenSize());
            return new Norm(w.tensor(prefix + ".weight", s, WeightSource.Init.ONES),
                    w.tensor(prefix + ".bias", s, WeightSource.Init.ZEROS), (float) c.eps());
        }

        NDArray apply(NDArray x) {
            DataType type = x.getDataType();
            NDArray y = LayerNorm.layerNorm(x.toType(DataType.FLOAT32, false), new Shape(weight.getShape().get(0)),
                    weight.toType(DataType.FLOAT32, false), bias.toType(DataType.FLOAT32, false), eps).singletonOrThrow();
            return y.toType(type, false);
        }
    }

    private record Layer(Norm norm1, Projection q, Projection k, Projection v, Projection out, Norm norm2,
            Projection fc1, Projection fc2) {}

    private final VisionConfig c;
    private final NDArray patchWeight;
    private final NDArray patchBias;
    private final NDArray classEmbedding;
    private final NDArray positions;
    private final Norm preNorm;
    private final List<Layer> layers;

    private VisionTower(VisionConfig c, NDArray patchWeight, NDArray patchBias, NDArray classEmbedding,
            NDArray positions, Norm preNorm, List<Layer> layers) {
        this.c = c;
        this.patchWeight = patchWeight;
        this.patchBias = patchBias;
        this.classEmbedding = classEmbedding;
        this.positions = positions;
        this.preNorm = preNorm;
        this.layers = layers;
    }

    /** Loads {@code prefix.embeddings}, {@code pre_layrnorm} (CLIP), {@code encoder.layers} and {@code post_layernorm}. */
    static VisionTower load(WeightSource w, String prefix, VisionConfig c) {
        boolean clip = c.kind() == VisionConfig.Kind.CLIP;
        int d = c.hiddenSize();
        String e = prefix + ".embeddings";
        NDArray patchWeight = w.tensor(e + ".patch_embedding.weight",
                new Shape(d, c.channels(), c.patchSize(), c.patchSize()), WeightSource.Init.NORMAL);
        NDArray patchBias = clip ? null : w.tensor(e + ".patch_embedding.bias", new Shape(d), WeightSource.Init.ZEROS);
        NDArray cls = clip ? w.tensor(e + ".class_embedding", new Shape(d), WeightSource.Init.NORMAL) : null;
        NDArray pos = w.tensor(e + ".position_embedding.weight", new Shape(c.tokens(), d), WeightSource.Init.NORMAL);
        Norm pre = clip ? Norm.load(w, prefix + ".pre_layrnorm", c) : null;
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.layers(); i++) {
            String p = prefix + ".encoder.layers." + i;
            layers.add(new Layer(Norm.load(w, p + ".layer_norm1", c),
                    Projection.load(w, p + ".self_attn.q_proj", d, d, true),
                    Projection.load(w, p + ".self_attn.k_proj", d, d, true),
                    Projection.load(w, p + ".self_attn.v_proj", d, d, true),
                    Projection.load(w, p + ".self_attn.out_proj", d, d, true),
                    Norm.load(w, p + ".layer_norm2", c),
                    Projection.load(w, p + ".mlp.fc1", d, c.intermediateSize(), true),
                    Projection.load(w, p + ".mlp.fc2", c.intermediateSize(), d, true)));
        }
        Norm.load(w, prefix + ".post_layernorm", c); // in the checkpoint; not on LLaVA's path
        return new VisionTower(c, patchWeight, patchBias, cls, pos, pre, List.copyOf(layers));
    }

    /**
     * @param pixels [B, channels, imageSize, imageSize]
     * @return the encoder input and each layer's output, each [B, tokens, hidden]
     */
    public List<NDArray> hiddenStates(NDArray pixels) {
        NDManager m = pixels.getManager();
        long b = pixels.getShape().get(0);
        int d = c.hiddenSize();
        // The patch convolution (kernel = stride = patch) is a matmul over flattened patches: cut the image
        // into [B, rows, cols, C * P * P] and project, patches row by row as the convolution orders them.
        int p = c.patchSize();
        int side = c.patchesPerSide();
        NDArray flat = pixels.toType(patchWeight.getDataType(), false)
                .reshape(b, c.channels(), side, p, side, p).transpose(0, 2, 4, 1, 3, 5)
                .reshape(b * side * side, (long) c.channels() * p * p);
        NDArray x = ai.djl.nn.core.Linear.linear(flat, patchWeight.reshape(d, -1), patchBias).singletonOrThrow()
                .reshape(b, (long) side * side, d);                                 // [B, patches, D]
        if (classEmbedding != null) {
            x = classEmbedding.reshape(1, 1, d).broadcast(new Shape(b, 1, d)).concat(x, 1);
        }
        x = x.add(positions.expandDims(0));
        if (preNorm != null) {
            x = preNorm.apply(x);
        }
        List<NDArray> states = new ArrayList<>();
        states.add(x);
        long t = x.getShape().get(1);
        int heads = c.heads();
        NDArray noMask = m.zeros(new Shape(1, t, t), DataType.FLOAT32);
        for (Layer l : layers) {
            NDArray h = l.norm1.apply(x);
            NDArray q = l.q.apply(h).reshape(b, t, heads, d / heads);
            NDArray k = l.k.apply(h).reshape(b, t, heads, d / heads);
            NDArray v = l.v.apply(h).reshape(b, t, heads, d / heads);
            x = x.add(l.out.apply(GroupedAttention.attend(q, k, v, noMask)));
            x = x.add(l.fc2.apply(Activations.apply(c.activation(), l.fc1.apply(l.norm2.apply(x)))));
            states.add(x);
        }
        return states;
    }

    public VisionConfig config() {
        return c;
    }
}
