package ai.nuri.engine;

import java.util.List;

/**
 * How a sequence picks its next tokens, in OpenAI/vLLM terms. {@code temperature == 0} is
 * greedy; {@code topK <= 0}, {@code topP == 1}, {@code minP == 0} and penalties of 0 (or 1 for
 * the multiplicative repetition penalty) switch a filter off. A non-null {@code seed} makes the
 * sampled tokens reproducible whatever else runs in the batch.
 */
public record SamplingParams(
        double temperature,
        double topP,
        int topK,
        double minP,
        double repetitionPenalty,
        double frequencyPenalty,
        double presencePenalty,
        Long seed,
        int maxTokens,
        List<String> stop,
        List<Integer> stopTokenIds,
        boolean ignoreEos) {

    public SamplingParams {
        if (!(temperature >= 0)) {
            throw new IllegalArgumentException("temperature must be >= 0");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1]");
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min_p must be in [0, 1]");
        }
        if (!(repetitionPenalty > 0)) {
            throw new IllegalArgumentException("repetition_penalty must be > 0");
        }
        if (!(frequencyPenalty >= -2 && frequencyPenalty <= 2) || !(presencePenalty >= -2 && presencePenalty <= 2)) {
            throw new IllegalArgumentException("frequency_penalty and presence_penalty must be in [-2, 2]");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1");
        }
        stop = List.copyOf(stop);
        stopTokenIds = List.copyOf(stopTokenIds);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 1, 0, 0, 1, 0, 0, null, maxTokens, List.of(), List.of(), false);
    }

    public boolean isGreedy() {
        return temperature < 1e-5;
    }

    public SamplingParams withSeed(Long newSeed) {
        return new SamplingParams(temperature, topP, topK, minP, repetitionPenalty, frequencyPenalty, presencePenalty,
                newSeed, maxTokens, stop, stopTokenIds, ignoreEos);
    }
}
