package ai.nuri.model;

/** NemotronForCausalLM: LayerNorm1P, squared-ReLU MLP, partial rotary. */
public final class NemotronArchitecture implements Architecture {
    @Override
    public String name() {
        return "NemotronForCausalLM";
    }

    @Override
    public void validate(ModelConfig config) {
        if (!config.hiddenAct().isEmpty() && !config.hiddenAct().equals("relu2")) {
            throw new IllegalArgumentException("Nemotron hidden_act '" + config.hiddenAct() + "' is not supported (relu2 is)");
        }
    }

    @Override
    public Norm norm(WeightSource weights, String prefix, ModelConfig config) {
        return LayerNorm1P.load(weights, prefix, config);
    }

    @Override
    public Mlp mlp(WeightSource weights, String prefix, ModelConfig config) {
        return SquaredReluMlp.load(weights, prefix, config);
    }
}
