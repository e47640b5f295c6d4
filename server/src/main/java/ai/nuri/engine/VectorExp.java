package ai.nuri.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatExp} in SIMD lanes, operation for operation (so bit for bit). Loaded only where
 * {@link #AVAILABLE}: the Vector API is an incubator module, present only with
 * {@code --add-modules jdk.incubator.vector}. The lane-wise EXP of the Vector API is not used: its
 * compiled form (a vector math library) and its interpreted form round differently.
 */
final class VectorExp {
    static final boolean AVAILABLE = ai.nuri.model.Linears.vectorKernelAvailable();

    private VectorExp() {}

    /** As {@link FloatExp#weights} over the whole vocabulary, for every whole vector; returns how many it did. */
    static int weights(float[] logits, int size, float max, float invT, float[] out) {
        return Lanes.weights(logits, size, max, invT, out);
    }

    /** The largest of {@code values} (NaN if any is, as {@link Math#max}); max is exact in any order. */
    static float max(float[] values) {
        return Lanes.max(values);
    }

    /** Holds the species: touched only when the module is there. */
    private static final class Lanes {
        static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

        static float max(float[] values) {
            int bound = F.loopBound(values.length);
            FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int k = 0; k < bound; k += F.length()) {
                m = m.max(FloatVector.fromArray(F, values, k));
            }
            float max = m.reduceLanes(VectorOperators.MAX);
            for (int k = bound; k < values.length; k++) {
                max = Math.max(max, values[k]);
            }
            return max;
        }

        static int weights(float[] logits, int size, float max, float invT, float[] out) {
            int bound = F.loopBound(size);
            for (int k = 0; k < bound; k += F.length()) {
                FloatVector x = FloatVector.fromArray(F, logits, k).sub(max).mul(invT);
                VectorMask<Float> live = x.compare(VectorOperators.GE, FloatExp.LOWEST);
                IntVector n = (IntVector) x.fma(FloatExp.LOG2E, -0.5f).convert(VectorOperators.F2I, 0);
                FloatVector nf = (FloatVector) n.convert(VectorOperators.I2F, 0);
                FloatVector r = nf.fma(FloatVector.broadcast(F, -FloatExp.LN2_HI), x);
                r = nf.fma(FloatVector.broadcast(F, -FloatExp.LN2_LO), r);
                FloatVector p = r.fma(FloatExp.P0, FloatExp.P1);
                p = p.fma(r, FloatVector.broadcast(F, FloatExp.P2));
                p = p.fma(r, FloatVector.broadcast(F, FloatExp.P3));
                p = p.fma(r, FloatVector.broadcast(F, FloatExp.P4));
                p = p.fma(r, FloatVector.broadcast(F, FloatExp.P5));
                FloatVector y = p.fma(r.mul(r), r).add(1f);
                FloatVector scale = n.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                y.mul(scale).blend(0f, live.not()).intoArray(out, k);
            }
            return bound;
        }
    }
}
