package ai.nuri.http;

import ai.nuri.engine.SamplingParams;

/**
 * A validated chat or completions request, ready for the engine: the prompt's tokens, how to
 * sample, how many choices, and how to answer.
 */
record GenerationRequest(
        ServedModel model,
        int[] prompt,
        SamplingParams sampling,
        int n,
        boolean stream,
        boolean includeUsage,
        int logprobs,
        boolean returnTokenIds) {}
