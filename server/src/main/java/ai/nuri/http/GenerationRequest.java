package ai.nuri.http;

import ai.nuri.engine.EngineImage;
import ai.nuri.engine.SamplingParams;
import ai.nuri.guide.Grammar;
import ai.nuri.text.ToolCallFormat;
import java.util.List;

/**
 * A validated chat or completions request, ready for the engine: the prompt's tokens (image
 * tokens expanded), its preprocessed images, how to sample, how many choices, and how to answer.
 * {@code constraint} is the grammar outputs must fit (null: none); {@code toolFormat} is how
 * answers are read for tool calls (null: they are not).
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
        List<EngineImage> images,
        Grammar constraint,
        ToolCallFormat toolFormat) {
    GenerationRequest(ServedModel model, int[] prompt, SamplingParams sampling, int n, boolean stream,
            boolean includeUsage, int logprobs, boolean returnTokenIds) {
        this(model, prompt, sampling, n, stream, includeUsage, logprobs, returnTokenIds, List.of(), null, null);
    }
}
