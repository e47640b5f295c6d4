package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Tiny models with every weight random (norms too), so no block hides behind an identity. */
public final class TestModels {
    private TestModels() {}

    public static ModelConfig nemotron() {
        return new ModelConfig("NemotronForCausalLM", 50, 32, 48, 2, 4, 2, 8, 128, 10000.0, 0.5, null, 1e-5, false,
                true, false, "relu2", 0, List.of(1));
    }

    /** Llama with one KV head for four query heads, tied embeddings and llama3 rope scaling. */
    public static ModelConfig llama() {
        return new ModelConfig("LlamaForCausalLM", 40, 32, 40, 2, 4, 1, 8, 256, 500000.0, 1.0,
                new RopeScaling("llama3", 8.0, 1.0, 4.0, 64), 1e-6, true, false, false, "silu", 0, List.of(1));
    }

    public static WeightSource jittered(NDManager manager, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return (name, shape, init) -> {
            float[] v = new float[Math.toIntExact(shape.size())];
            for (int i = 0; i < v.length; i++) {
                double g = gaussian(random);
                v[i] = (float) switch (init) {
                    case NORMAL -> 0.2 * g;
                    case ZEROS -> 0.1 * g;
                    case ONES -> 1 + 0.1 * g;
                    case A_LOG -> Math.log(1 + i % 8) + 0.1 * g;
                    case DT_BIAS -> RandomWeights.dtBias(random.nextDouble());
                };
            }
            return manager.create(v, shape);
        };
    }

    static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    public static DecoderModel build(ModelConfig c, long seed) {
        NDManager manager = NDManager.newBaseManager();
        return DecoderModel.build(c, jittered(manager, seed), manager, DataType.FLOAT32);
    }

    public static Map<String, float[]> weights(DecoderModel model) {
        Map<String, float[]> w = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
            w.put(e.getKey(), e.getValue().toType(DataType.FLOAT32, true).toFloatArray());
        }
        return w;
    }

    /** Plain RoPE inverse frequencies, 1 / theta^(2i/d), computed here independently. */
    public static double[] plainInverseFrequencies(int rotDim, double theta) {
        double[] inv = new double[rotDim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = Math.pow(theta, -2.0 * i / rotDim);
        }
        return inv;
    }

    public static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    public static Shape shape(long... dims) {
        return new Shape(dims);
    }
}
