package ai.nuri.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Fresh weights for training or benchmarking: normal(0, std) matrices, norms at their identity
 * value. Deterministic for a seed (values are drawn in Java, not by the engine's RNG).
 */
public final class RandomWeights implements WeightSource {
    private final NDManager manager;
    private final double std;
    private final SplittableRandom random;

    public RandomWeights(NDManager manager, double std, long seed) {
        this.manager = manager;
        this.std = std;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public NDArray tensor(String name, Shape shape, Init init) {
        int n = Math.toIntExact(shape.size());
        float[] values = new float[n];
        switch (init) {
            case ONES -> java.util.Arrays.fill(values, 1f);
            case ZEROS -> { }
            case NORMAL -> {
                for (int i = 0; i < n; i++) {
                    values[i] = (float) (gaussian() * std);
                }
            }
            case A_LOG -> {
                for (int i = 0; i < n; i++) {
                    values[i] = (float) Math.log(i + 1);
                }
            }
            case DT_BIAS -> {
                for (int i = 0; i < n; i++) {
                    values[i] = (float) dtBias(random.nextDouble());
                }
            }
        }
        return manager.create(values, shape).toType(DataType.FLOAT32, false);
    }

    /** The inverse softplus of a time step drawn log-uniformly from [0.001, 0.1] at quantile u. */
    public static double dtBias(double u) {
        double dt = Math.exp(Math.log(0.001) + u * (Math.log(0.1) - Math.log(0.001)));
        return dt + Math.log(-Math.expm1(-dt));
    }

    private double gaussian() {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 21.
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
