package ai.nuri.engine;

/**
 * One sequence to generate. {@code logprobs} is -1 for none, else how many alternatives to
 * report per token (0 reports only the sampled token's own log-probability).
 */
public record EngineRequest(String id, int[] prompt, SamplingParams params, int logprobs, SequenceListener listener) {}
