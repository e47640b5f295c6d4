package ai.nuri.engine;

import java.util.List;

/**
 * One sequence to generate. {@code logprobs} is -1 for none, else how many alternatives to
 * report per token (0 reports only the sampled token's own log-probability). {@code images} are
 * the prompt's images in order, each standing for as many image tokens in {@code prompt} as the
 * model takes per image.
 */
public record EngineRequest(String id, int[] prompt, SamplingParams params, int logprobs, SequenceListener listener,
        List<EngineImage> images) {
    public EngineRequest {
        images = List.copyOf(images);
    }

    /** A text-only request. */
    public EngineRequest(String id, int[] prompt, SamplingParams params, int logprobs, SequenceListener listener) {
        this(id, prompt, params, logprobs, listener, List.of());
    }
}
