package ai.nuri.model;

/**
 * The {@code rope_scaling} entry of a Hugging Face config. {@code type} is "linear" (positions
 * divided by factor) or "llama3" (frequency-dependent scaling of Llama 3.1).
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
        int originalMaxPositionEmbeddings) {}
