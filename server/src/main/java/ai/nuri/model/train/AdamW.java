package ai.nuri.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter) over named parameters, updating them in place. Moments live in
 * the optimizer's own manager; every step's temporaries are closed.
 */
public final class AdamW implements AutoCloseable {
    private final Map<String, NDArray> parameters;
    private final NDManager manager;
    private final Map<String, NDArray> firstMoment = new LinkedHashMap<>();
    private final Map<String, NDArray> secondMoment = new LinkedHashMap<>();
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final float weightDecay;
    private int step;

    public AdamW(Map<String, NDArray> parameters, NDManager parent, float beta1, float beta2, float epsilon,
            float weightDecay) {
        this.parameters = parameters;
        this.manager = parent.newSubManager();
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        parameters.forEach((name, p) -> {
            firstMoment.put(name, manager.zeros(p.getShape(), p.getDataType()));
            secondMoment.put(name, manager.zeros(p.getShape(), p.getDataType()));
        });
    }

    /**
     * Scales the accumulated gradients so that their global L2 norm is at most {@code maxNorm}
     * (as torch's clip_grad_norm_); returns the norm before scaling. A non-finite norm zeroes them:
     * that step then changes nothing.
     */
    public float clipGradients(float maxNorm) {
        // (A non-finite norm clears the gradients: the caller then skips the step.)
        double total = 0;
        for (NDArray p : parameters.values()) {
            try (NDArray grad = p.getGradient(); NDArray sq = grad.square(); NDArray sum = sq.sum()) {
                total += sum.getFloat();
            }
        }
        float norm = (float) Math.sqrt(total);
        if (!Float.isFinite(norm)) {
            zeroGradients();
            return norm;
        }
        float scale = norm > maxNorm ? maxNorm / (norm + 1e-6f) : 1f;
        if (scale != 1f) {
            for (NDArray p : parameters.values()) {
                try (NDArray grad = p.getGradient()) {
                    grad.muli(scale);
                }
            }
        }
        return norm;
    }

    /** Clears the accumulated gradients, NaN and infinity included (multiplying by zero would keep those). */
    public void zeroGradients() {
        for (NDArray p : parameters.values()) {
            try (NDArray grad = p.getGradient(); NDArray nan = grad.isNaN(); NDArray inf = grad.isInfinite()) {
                grad.set(nan, 0f);
                grad.set(inf, 0f);
                grad.muli(0);
            }
        }
    }

    /** One update with the gradients accumulated on the parameters, which are then zeroed. */
    public void step(float learningRate) {
        step++;
        float correction1 = 1 - (float) Math.pow(beta1, step);
        float correction2 = 1 - (float) Math.pow(beta2, step);
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray p = e.getValue();
            try (NDArray grad = p.getGradient()) {
                NDArray m = firstMoment.get(e.getKey());
                NDArray v = secondMoment.get(e.getKey());
                try (NDArray g1 = grad.mul(1 - beta1); NDArray g2 = grad.square().muli(1 - beta2)) {
                    m.muli(beta1).addi(g1);
                    v.muli(beta2).addi(g2);
                }
                // Decoupled weight decay on matrices only (norm weights and biases are 1-D).
                if (weightDecay > 0 && p.getShape().dimension() > 1) {
                    p.muli(1 - learningRate * weightDecay);
                }
                try (NDArray denominator = v.div(correction2).sqrt().addi(epsilon);
                        NDArray update = m.div(correction1).divi(denominator).muli(learningRate)) {
                    p.subi(update);
                }
                grad.muli(0);
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
