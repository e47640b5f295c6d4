package ai.nuri.model.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** The activations of transformers' ACT2FN that vision towers and projectors use, by their config names. */
final class Activations {
    private Activations() {}

    static void check(String name) {
        switch (name) {
            case "gelu", "gelu_pytorch_tanh", "gelu_new", "quick_gelu", "silu", "relu" -> { }
            default -> throw new IllegalArgumentException("activation '" + name + "' is not supported (gelu,"
                    + " gelu_pytorch_tanh, gelu_new, quick_gelu, silu, relu are)");
        }
    }

    static NDArray apply(String name, NDArray x) {
        return switch (name) {
            case "gelu" -> Activation.gelu(x); // the exact erf form, as torch's default
            case "gelu_pytorch_tanh", "gelu_new" -> {
                // tanh is flat beyond ±20: clipping there changes no value, and keeps the gradient of a huge
                // activation at 0 rather than 0 × infinity (NaN) when training.
                NDArray inner = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2 / Math.PI)).clip(-20f, 20f);
                yield x.mul(inner.tanh().add(1f)).mul(0.5f);
            }
            case "quick_gelu" -> x.mul(Activation.sigmoid(x.mul(1.702f)));
            case "silu" -> x.mul(Activation.sigmoid(x));
            case "relu" -> Activation.relu(x);
            default -> throw new IllegalArgumentException("activation '" + name + "' is not supported");
        };
    }
}
