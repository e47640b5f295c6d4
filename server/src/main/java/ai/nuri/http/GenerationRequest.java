package ai.nuri.http;

import ai.nuri.engine.EngineImage;
import ai.nuri.engine.SamplingParams;
import java.util.List;

/**
 * A validated chat or completions request, ready for the engine: the prompt's tokens (image
 * tokens expanded), its preprocessed images, how to sample, how many choices, and how to answer.
 */
record GenerationRequest(
        ServedModel model,
        int[] prompt,
        SamplingParams sampling,
        int n,
        boolean stream,
        boolean includeUsage,
        int logprobs,
        boolean returnTokenIds,
        List<EngineImage> images) {
    GenerationRequest(ServedModel model, int[] prompt, SamplingParams sampling, int n, boolean stream,
            boolean includeUsage, int logprobs, boolean returnTokenIds) {
        this(model, prompt, sampling, n, stream, includeUsage, logprobs, returnTokenIds, List.of());
    }
}
