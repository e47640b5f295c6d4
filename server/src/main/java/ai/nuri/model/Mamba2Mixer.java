package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.nio.FloatBuffer;

/**
 * NemotronH's Mamba-2 mixer. The input projection gives a gate z, the convolution input (x, B, C)
 * and a time step per head; x, B and C go through a causal depthwise convolution and SiLU; the
 * selective scan runs with dt = clip(softplus(dt + dt_bias)) and A = -exp(A_log), plus a D skip;
 * the result is gated by z, group-normalised and projected back. Conv and scan run in FP32.
 *
 * <p>How the step's tokens split into sequences, and where their state lives, is the
 * {@link RecurrentKernel}'s business; it calls back {@link #sequence} (many tokens of one or more
 * sequences) or {@link #step} (one token each of many sequences).
 */
public final class Mamba2Mixer {
    private final Projection inProj;
    private final NDArray convWeight;
    private final NDArray convBias;
    private final NDArray dtBias;
    private final NDArray aLog;
    private final NDArray d;
    private final GatedRmsNorm norm;
    private final Projection outProj;
    private final HybridConfig c;
    private final int index;

    private Mamba2Mixer(Projection inProj, NDArray convWeight, NDArray convBias, NDArray dtBias, NDArray aLog,
            NDArray d, GatedRmsNorm norm, Projection outProj, HybridConfig c, int index) {
        this.inProj = inProj;
        this.convWeight = convWeight;
        this.convBias = convBias;
        this.dtBias = dtBias;
        this.aLog = aLog;
        this.d = d;
        this.norm = norm;
        this.outProj = outProj;
        this.c = c;
        this.index = index;
    }

    /** Loads {@code prefix.in_proj}, {@code conv1d}, {@code dt_bias}, {@code A_log}, {@code D}, {@code norm}, {@code out_proj}. */
    static Mamba2Mixer load(WeightSource w, String prefix, ModelConfig config, int index) {
        HybridConfig c = config.hybrid();
        int inner = c.mambaInner();
        int heads = c.mambaHeads();
        int convDim = c.convDim();
        boolean bias = c.projectionBias();
        return new Mamba2Mixer(
                Projection.load(w, prefix + ".in_proj", config.hiddenSize(), inner + convDim + heads, bias),
                w.tensor(prefix + ".conv1d.weight", new Shape(convDim, 1, c.convKernel()), WeightSource.Init.NORMAL),
                c.convBias() ? w.tensor(prefix + ".conv1d.bias", new Shape(convDim), WeightSource.Init.ZEROS) : null,
                w.tensor(prefix + ".dt_bias", new Shape(heads), WeightSource.Init.DT_BIAS),
                w.tensor(prefix + ".A_log", new Shape(heads), WeightSource.Init.A_LOG),
                w.tensor(prefix + ".D", new Shape(heads), WeightSource.Init.ONES),
                new GatedRmsNorm(w.tensor(prefix + ".norm.weight", new Shape(inner), WeightSource.Init.ONES),
                        inner / c.groups(), (float) config.normEps()),
                Projection.load(w, prefix + ".out_proj", inner, config.hiddenSize(), bias),
                c, index);
    }

    /** x [T, hidden] (normed) to [T, hidden]. */
    public NDArray forward(NDArray x, Kernels kernels) {
        int inner = c.mambaInner();
        int convEnd = inner + c.convDim();
        NDArray projected = inProj.apply(x, kernels.linears());
        NDArray gate = projected.get(":, :" + inner);
        NDArray xbc = projected.get(":, " + inner + ":" + convEnd);
        NDArray dt = projected.get(":, " + convEnd + ":");
        NDArray y = kernels.recurrent().scan(index, this, xbc, dt);
        return outProj.apply(norm.apply(y, gate).toType(x.getDataType(), false), kernels.linears());
    }

    /** The scan output [.., inner] and each sequence's state after the last token. */
    public record Output(NDArray y, NDArray convState, NDArray ssmState) {}

    /**
     * B sequences of L tokens each, continuing from the given states (null: from zero).
     *
     * @param xbc       [B, L, convDim]
     * @param dt        [B, L, heads] raw
     * @param convState [B, convDim, K-1] the K-1 convolution inputs before these tokens, or null
     * @param ssmState  [B, heads, headDim, n], or null
     * @return y [B, L, inner]; states as above, after the last token
     */
    public Output sequence(NDArray xbc, NDArray dt, NDArray convState, NDArray ssmState) {
        long b = xbc.getShape().get(0);
        long l = xbc.getShape().get(1);
        int k = c.convKernel();
        NDArray columns = xbc.toType(DataType.FLOAT32, false).transpose(0, 2, 1);  // [B, convDim, L]
        NDArray history = convState != null ? convState
                : columns.getManager().zeros(new Shape(b, c.convDim(), k - 1), DataType.FLOAT32);
        NDArray padded = history.concat(columns, 2);                                 // [B, convDim, K-1+L]
        // The depthwise causal convolution as K shifted, weighted slices: plain ops, with none of libtorch's
        // CPU convolution kernels in the way (training through them gave intermittent NaN gradients).
        NDArray weight = convWeight32().reshape(c.convDim(), k);
        NDArray conv = null;
        for (int j = 0; j < k; j++) {
            NDArray term = padded.get(":, :, " + j + ":" + (j + l)).mul(weight.get(":, " + j + ":" + (j + 1)));
            conv = conv == null ? term : conv.add(term);
        }
        if (convBias != null) {
            conv = conv.add(convBias32().reshape(c.convDim(), 1));
        }
        NDArray activated = silu(conv).transpose(0, 2, 1);                            // [B, L, convDim]

        Split s = split(activated, new long[] {b, l});
        NDArray timeStep = timeStep(dt);
        Ssd.Result r = Ssd.scan(s.x, timeStep, a(), s.b, s.c, ssmState, c.chunkSize());
        NDArray y = r.y().add(s.x.mul(d32().reshape(c.mambaHeads(), 1)));
        return new Output(y.reshape(b, l, c.mambaInner()), padded.get(":, :, " + l + ":"), r.finalState());
    }

    /**
     * One token each of n sequences: the recurrence itself, for decoding.
     *
     * @param xbc       [n, convDim]
     * @param dt        [n, heads] raw
     * @param convState [n, convDim, K-1]
     * @param ssmState  [n, heads, headDim, stateSize]
     * @return y [n, inner]; states after this token
     */
    public Output step(NDArray xbc, NDArray dt, NDArray convState, NDArray ssmState) {
        long n = xbc.getShape().get(0);
        NDArray window = convWindow(xbc, convState);
        Split s = split(convolveWindow(window), new long[] {n});
        NDArray timeStep = timeStep(dt);                                              // [n, heads]
        NDArray decay = timeStep.mul(a()).exp().reshape(n, c.mambaHeads(), 1, 1);
        NDArray input = s.x.mul(timeStep.expandDims(2)).expandDims(3).mul(s.b.expandDims(2)); // [n, h, p, N]
        NDArray state = ssmState.mul(decay).add(input);
        NDArray y = state.matMul(s.c.expandDims(3)).squeeze(3)                        // [n, h, p]
                .add(s.x.mul(d32().reshape(c.mambaHeads(), 1)));
        return new Output(y.reshape(n, c.mambaInner()), window.get(":, :, 1:"), state);
    }

    /**
     * As {@link #step}, but the SSM state lives in {@code ssmPool} (CPU memory of the state pool,
     * [rows, heads, headDim, stateSize]): read from rows {@code read}, written in place to rows
     * {@code write} by one fused pass ({@link SsmDecodeStep}). Returns the output and the new
     * convolution state; its {@code ssmState} is null.
     */
    public Output stepInPlace(NDArray xbc, NDArray dt, NDArray convState, FloatBuffer ssmPool, int[] read, int[] write) {
        long n = xbc.getShape().get(0);
        int inner = c.mambaInner();
        int gn = c.groups() * c.ssmStateSize();
        NDArray window = convWindow(xbc, convState);
        NDArray activated = convolveWindow(window);
        float[] y = SsmDecodeStep.run(ssmPool, read, write, activated.get(":, :" + inner).toFloatArray(),
                timeStep(dt).toFloatArray(), a().toFloatArray(), activated.get(":, " + inner + ":" + (inner + gn)).toFloatArray(),
                activated.get(":, " + (inner + gn) + ":").toFloatArray(), d32().toFloatArray(), c.mambaHeads(),
                c.mambaHeadDim(), c.groups(), c.ssmStateSize());
        return new Output(xbc.getManager().create(y, new Shape(n, inner)), window.get(":, :, 1:"), null);
    }

    /** The K inputs each sequence's convolution sees at this token: [n, convDim, K]. */
    private NDArray convWindow(NDArray xbc, NDArray convState) {
        return convState.concat(xbc.toType(DataType.FLOAT32, false).expandDims(2), 2);
    }

    /** One output column of the causal convolution over each window, through SiLU: [n, convDim]. */
    private NDArray convolveWindow(NDArray window) {
        NDArray conv = window.mul(convWeight32().reshape(c.convDim(), c.convKernel())).sum(new int[] {2});
        if (convBias != null) {
            conv = conv.add(convBias32());
        }
        return silu(conv);
    }

    /** x [.., heads, headDim], and B, C expanded from groups to heads [.., heads, n]. */
    private record Split(NDArray x, NDArray b, NDArray c) {}

    private Split split(NDArray activated, long[] lead) {
        int inner = c.mambaInner();
        int gn = c.groups() * c.ssmStateSize();
        String prefix = ":, ".repeat(lead.length);
        NDArray x = activated.get(prefix + ":" + inner).reshape(concat(lead, c.mambaHeads(), c.mambaHeadDim()));
        NDArray b = toHeads(activated.get(prefix + inner + ":" + (inner + gn)), lead);
        NDArray cc = toHeads(activated.get(prefix + (inner + gn) + ":"), lead);
        return new Split(x, b, cc);
    }

    /** [.., groups * n] to [.., heads, n]: head h reads group h / (heads / groups). */
    private NDArray toHeads(NDArray grouped, long[] lead) {
        int g = c.groups();
        int perGroup = c.mambaHeads() / g;
        int n = c.ssmStateSize();
        NDArray t = grouped.reshape(concat(lead, g, 1, n));
        if (perGroup > 1) {
            t = t.broadcast(new Shape(concat(lead, g, perGroup, n)));
        }
        return t.reshape(concat(lead, c.mambaHeads(), n));
    }

    private static long[] concat(long[] lead, long... rest) {
        long[] out = new long[lead.length + rest.length];
        System.arraycopy(lead, 0, out, 0, lead.length);
        System.arraycopy(rest, 0, out, lead.length, rest.length);
        return out;
    }

    /** softplus(dt + dt_bias), clipped to the configured time_step_limit. */
    private NDArray timeStep(NDArray raw) {
        NDArray dt = Activation.softPlus(raw.toType(DataType.FLOAT32, false).add(dtBias.toType(DataType.FLOAT32, false)));
        if (c.timeStepLimitLow() > 0) {
            dt = dt.maximum((float) c.timeStepLimitLow());
        }
        if (Double.isFinite(c.timeStepLimitHigh())) {
            dt = dt.minimum((float) c.timeStepLimitHigh());
        }
        return dt;
    }

    private NDArray a() {
        return aLog.toType(DataType.FLOAT32, false).exp().neg();
    }

    private NDArray d32() {
        return d.toType(DataType.FLOAT32, false);
    }

    private NDArray convWeight32() {
        return convWeight.toType(DataType.FLOAT32, false);
    }

    private NDArray convBias32() {
        return convBias == null ? null : convBias.toType(DataType.FLOAT32, false);
    }

    private static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }

    /** Shapes of one sequence's state, for sizing the pool. */
    public static Shape convStateShape(HybridConfig c) {
        return new Shape(c.convDim(), c.convKernel() - 1);
    }

    public static Shape ssmStateShape(HybridConfig c) {
        return new Shape(c.mambaHeads(), c.mambaHeadDim(), c.ssmStateSize());
    }
}
