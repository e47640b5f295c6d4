package ai.nuri.model;

import java.util.List;

/**
 * What distinguishes one decoder family from another: its norm, its MLP and its rotary
 * embedding. The decoder skeleton ({@link DecoderModel}) is shared; adding an architecture is a
 * small class, not a copy of the forward pass.
 */
public interface Architecture {
    /** The {@code architectures} value of config.json this class implements. */
    String name();

    /** Checks config fields this architecture cares about; throws IllegalArgumentException. */
    void validate(ModelConfig config);

    Norm norm(WeightSource weights, String prefix, ModelConfig config);

    Mlp mlp(WeightSource weights, String prefix, ModelConfig config);

    default RotaryEmbedding rotary(ModelConfig config) {
        return RotaryEmbedding.of(config);
    }

    List<Architecture> ALL = List.of(new NemotronArchitecture(), new LlamaArchitecture());

    static Architecture forName(String name) {
        for (Architecture a : ALL) {
            if (a.name().equals(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown architecture '" + name + "' (supported: "
                + String.join(", ", ALL.stream().map(Architecture::name).toList()) + ")");
    }
}
