package ai.nuri.model;

/** LlamaForCausalLM: RMSNorm, SwiGLU MLP, full rotary (optionally llama3/linear scaled). */
public final class LlamaArchitecture implements Architecture {
    @Override
    public String name() {
        return "LlamaForCausalLM";
    }

    @Override
    public void validate(ModelConfig config) {
        if (!config.hiddenAct().isEmpty() && !config.hiddenAct().equals("silu")) {
            throw new IllegalArgumentException("Llama hidden_act '" + config.hiddenAct() + "' is not supported (silu is)");
        }
        if (config.partialRotaryFactor() != 1.0) {
            throw new IllegalArgumentException("Llama rotates every channel; partial_rotary_factor must be 1");
        }
    }

    @Override
    public Norm norm(WeightSource weights, String prefix, ModelConfig config) {
        return RmsNorm.load(weights, prefix, config);
    }

    @Override
    public Mlp mlp(WeightSource weights, String prefix, ModelConfig config) {
        return SwiGluMlp.load(weights, prefix, config);
    }
}
