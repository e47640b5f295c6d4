package ai.nuri.engine;

import ai.nuri.guide.Grammar;
import java.util.List;

/**
 * One sequence to generate. {@code logprobs} is -1 for none, else how many alternatives to
 * report per token (0 reports only the sampled token's own log-probability). {@code images} are
 * the prompt's images in order, each standing for as many image tokens in {@code prompt} as the
 * model takes per image. {@code constraint}, when not null, is the grammar every output must fit:
 * decoding only samples tokens that keep the text inside it, and ends when it is complete.
 */
public record EngineRequest(String id, int[] prompt, SamplingParams params, int logprobs, SequenceListener listener,
        List<EngineImage> images, Grammar constraint) {
    public EngineRequest {
        images = List.copyOf(images);
    }

    /** Unconstrained. */
    public EngineRequest(String id, int[] prompt, SamplingParams params, int logprobs, SequenceListener listener,
            List<EngineImage> images) {
        this(id, prompt, params, logprobs, listener, images, null);
    }

    /** A text-only request. */
    public EngineRequest(String id, int[] prompt, SamplingParams params, int logprobs, SequenceListener listener) {
        this(id, prompt, params, logprobs, listener, List.of());
    }
}
