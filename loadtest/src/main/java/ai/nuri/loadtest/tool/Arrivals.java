package ai.nuri.loadtest.tool;

import java.util.SplittableRandom;

/**
 * When requests are sent, as vLLM's benchmark sends them: gaps drawn from a gamma distribution
 * with shape {@code burstiness} and mean {@code 1 / rate} (burstiness 1 is a Poisson process;
 * below 1 burstier, above 1 more even), or all at once for an infinite rate.
 */
final class Arrivals {
    private Arrivals() {}

    /** Seconds between consecutive sends, {@code n} of them (the first is the wait before the first request). */
    static double[] gaps(int n, double rate, double burstiness, long seed) {
        double[] gaps = new double[n];
        if (Double.isInfinite(rate)) {
            return gaps;
        }
        if (!(rate > 0) || !(burstiness > 0)) {
            throw new IllegalArgumentException("request rate and burstiness must be positive");
        }
        SplittableRandom r = new SplittableRandom(seed);
        double scale = 1 / (rate * burstiness);
        for (int i = 0; i < n; i++) {
            gaps[i] = gamma(r, burstiness) * scale;
        }
        return gaps;
    }

    /** A Gamma(shape, 1) draw: Marsaglia and Tsang's method, with the usual boost for shapes below 1. */
    static double gamma(SplittableRandom r, double shape) {
        if (shape < 1) {
            return gamma(r, shape + 1) * Math.pow(r.nextDouble(), 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                x = normal(r);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = r.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    private static double normal(SplittableRandom r) {
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
