package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * NemotronH's mixture-of-experts MLP: a sigmoid router with a score-correction bias and grouped
 * top-k (DeepSeek-V3 style), squared-ReLU experts with no gate, an optional latent projection
 * around the routed experts, and a shared expert that every token takes.
 *
 * <p>Which experts a token takes is decided in Java from the router's scores (a few floats per
 * token); the tokens are then grouped per expert, so each expert runs one matmul over all of its
 * tokens. The routing weights stay NDArrays gathered from the scores, so training reaches the router.
 */
public final class MoeMlp {
    private final NDArray router;
    /** e_score_correction_bias: a buffer, never trained, read once. */
    private final float[] correction;
    private final Experts experts;
    private final Projection latentIn;
    private final Projection latentOut;
    private final SquaredReluMlp shared;
    private final HybridConfig.Moe c;

    /** Expert e's up [I, in] and down [in, I] weights, stored per expert or stacked [E, ...]. */
    private interface Experts {
        NDArray up(int e);

        NDArray down(int e);
    }

    private MoeMlp(NDArray router, NDArray correctionTensor, Experts experts, Projection latentIn,
            Projection latentOut, SquaredReluMlp shared, HybridConfig.Moe c) {
        this.router = router;
        this.correction = correctionTensor.toType(DataType.FLOAT32, false).toFloatArray();
        this.experts = experts;
        this.latentIn = latentIn;
        this.latentOut = latentOut;
        this.shared = shared;
        this.c = c;
    }

    static MoeMlp load(WeightSource w, String prefix, ModelConfig config) {
        HybridConfig.Moe c = config.hybrid().moe();
        int hidden = config.hiddenSize();
        int in = c.latentSize() != null ? c.latentSize() : hidden;
        int e = c.experts();
        Experts experts;
        if (w.contains(prefix + ".experts.0.up_proj.weight")) {
            // As NVIDIA ships checkpoints: one pair of linear layers per expert.
            List<NDArray> ups = new ArrayList<>();
            List<NDArray> downs = new ArrayList<>();
            for (int i = 0; i < e; i++) {
                ups.add(w.tensor(prefix + ".experts." + i + ".up_proj.weight", new Shape(c.intermediateSize(), in),
                        WeightSource.Init.NORMAL));
                downs.add(w.tensor(prefix + ".experts." + i + ".down_proj.weight", new Shape(in, c.intermediateSize()),
                        WeightSource.Init.NORMAL));
            }
            experts = new Experts() {
                public NDArray up(int i) {
                    return ups.get(i);
                }

                public NDArray down(int i) {
                    return downs.get(i);
                }
            };
        } else {
            // As transformers saves them now: all experts in one 3-D tensor each.
            NDArray up = w.tensor(prefix + ".experts.up_proj", new Shape(e, c.intermediateSize(), in), WeightSource.Init.NORMAL);
            NDArray down = w.tensor(prefix + ".experts.down_proj", new Shape(e, in, c.intermediateSize()),
                    WeightSource.Init.NORMAL);
            experts = new Experts() {
                public NDArray up(int i) {
                    return up.get(i);
                }

                public NDArray down(int i) {
                    return down.get(i);
                }
            };
        }
        boolean bias = config.mlpBias();
        return new MoeMlp(
                w.tensor(prefix + ".gate.weight", new Shape(e, hidden), WeightSource.Init.NORMAL),
                w.tensor(prefix + ".gate.e_score_correction_bias", new Shape(e), WeightSource.Init.ZEROS),
                experts,
                c.latentSize() == null ? null : Projection.load(w, prefix + ".fc1_latent_proj", hidden, in, bias),
                c.latentSize() == null ? null : Projection.load(w, prefix + ".fc2_latent_proj", in, hidden, bias),
                SquaredReluMlp.load(w, prefix + ".shared_experts", hidden, c.sharedIntermediateSize(), bias),
                c);
    }

    /** x [T, hidden] (normed) to [T, hidden]. */
    public NDArray apply(NDArray x) {
        NDManager m = x.getManager();
        int t = (int) x.getShape().get(0);
        int k = c.expertsPerToken();
        NDArray scores = Activation.sigmoid(ai.djl.nn.core.Linear.linear(x.toType(DataType.FLOAT32, false),
                router.toType(DataType.FLOAT32, false)).singletonOrThrow());             // [T, E]
        int[] chosen = route(scores.toFloatArray(), correction, t, c);                  // [T * k] expert ids
        long[] flat = new long[t * k];
        for (int i = 0; i < flat.length; i++) {
            flat[i] = (long) (i / k) * c.experts() + chosen[i];
        }
        NDArray weights = scores.reshape(-1).get(m.create(flat)).reshape(t, k);
        if (c.normTopkProb()) {
            weights = weights.div(weights.sum(new int[] {1}, true).add(1e-20f));
        }
        weights = weights.mul((float) c.routedScalingFactor()).reshape(-1, 1).toType(x.getDataType(), false);

        NDArray v = latentIn == null ? x : latentIn.apply(x);
        // Group (token, slot) pairs by expert; run each expert once over its rows; put the rows back.
        List<NDArray> outputs = new ArrayList<>();
        long[] order = new long[t * k];
        int placed = 0;
        for (int e = 0; e < c.experts(); e++) {
            int count = 0;
            for (int p = 0; p < chosen.length; p++) {
                if (chosen[p] == e) {
                    order[placed + count++] = p;
                }
            }
            if (count == 0) {
                continue;
            }
            long[] pairs = Arrays.copyOfRange(order, placed, placed + count);
            long[] tokens = Arrays.stream(pairs).map(p -> p / k).toArray();
            NDArray rows = v.get(m.create(tokens));
            NDArray up = ai.djl.nn.core.Linear.linear(rows, experts.up(e)).singletonOrThrow();
            NDArray out = ai.djl.nn.core.Linear.linear(Activation.relu(up).square(), experts.down(e)).singletonOrThrow();
            outputs.add(out.mul(weights.get(m.create(pairs))));
            placed += count;
        }
        long[] inverse = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            inverse[(int) order[i]] = i;
        }
        NDArray routed = NDArrays.concat(new NDList(outputs), 0).get(m.create(inverse))
                .reshape(t, k, -1).sum(new int[] {1});
        if (latentOut != null) {
            routed = latentOut.apply(routed);
        }
        return routed.add(shared.apply(x));
    }

    /**
     * The experts each token takes, k per token in descending order of their biased score: the
     * top {@code topk_group} groups by the sum of their two best biased scores, then the top k
     * experts within those groups. Ties go to the lower expert index.
     */
    static int[] route(float[] scores, float[] bias, int tokens, HybridConfig.Moe c) {
        int e = c.experts();
        int k = c.expertsPerToken();
        int perGroup = e / c.groups();
        int[] out = new int[tokens * k];
        float[] choice = new float[e];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < e; i++) {
                choice[i] = scores[t * e + i] + bias[i];
            }
            boolean[] keptGroup = new boolean[c.groups()];
            if (c.groups() == 1) {
                keptGroup[0] = true;
            } else {
                float[] groupScore = new float[c.groups()];
                for (int g = 0; g < c.groups(); g++) {
                    int[] top = topK(choice, g * perGroup, (g + 1) * perGroup, 2, null);
                    groupScore[g] = choice[top[0]] + choice[top[1]];
                }
                for (int g : topK(groupScore, 0, c.groups(), c.topkGroups(), null)) {
                    keptGroup[g] = true;
                }
            }
            boolean[] allowed = new boolean[e];
            for (int i = 0; i < e; i++) {
                allowed[i] = keptGroup[i / perGroup];
            }
            System.arraycopy(topK(choice, 0, e, k, allowed), 0, out, t * k, k);
        }
        return out;
    }

    /** Indices of the k largest values in [from, to) (where allowed), largest first, lower index on ties. */
    private static int[] topK(float[] values, int from, int to, int k, boolean[] allowed) {
        int[] best = new int[k];
        Arrays.fill(best, -1);
        for (int i = from; i < to; i++) {
            if (allowed != null && !allowed[i]) {
                continue;
            }
            int j = k - 1;
            if (best[j] != -1 && values[i] <= values[best[j]]) {
                continue;
            }
            while (j > 0 && (best[j - 1] == -1 || values[i] > values[best[j - 1]])) {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = i;
        }
        return best;
    }
}
