package ai.nuri.loadtest.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Arrival gaps: exponential for burstiness 1 (Poisson), gamma otherwise, with the right mean and variance for a seed. */
class ArrivalsTest {
    static double[] meanVariance(double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        return new double[] {mean, var / (x.length - 1)};
    }

    @Test
    void poissonGapsHaveMeanAndVarianceOfTheExponential() {
        double rate = 4;
        double[] mv = meanVariance(Arrivals.gaps(200_000, rate, 1.0, 42));
        assertEquals(1 / rate, mv[0], 0.01 / rate, "mean 1/rate");
        assertEquals(1 / (rate * rate), mv[1], 0.03 / (rate * rate), "variance 1/rate^2");
    }

    @Test
    void burstinessChangesTheVarianceNotTheMean() {
        for (double k : new double[] {0.25, 0.5, 3}) {
            double rate = 2;
            double[] mv = meanVariance(Arrivals.gaps(200_000, rate, k, 7));
            assertEquals(1 / rate, mv[0], 0.02 / rate, "mean at burstiness " + k);
            assertEquals(1 / (k * rate * rate), mv[1], 0.05 / (k * rate * rate), "variance 1/(k rate^2) at burstiness " + k);
        }
    }

    @Test
    void anInfiniteRateSendsEverythingAtOnceAndASeedRepeats() {
        assertEquals(0.0, java.util.Arrays.stream(Arrivals.gaps(10, Double.POSITIVE_INFINITY, 1, 1)).sum());
        assertEquals(java.util.Arrays.toString(Arrivals.gaps(5, 3, 1, 9)), java.util.Arrays.toString(Arrivals.gaps(5, 3, 1, 9)));
    }
}
