package ai.nuri.engine;

import java.util.List;

/** A sampled token's log-probability under the model, with the most likely alternatives. */
public record TokenLogprob(int token, float logprob, List<Candidate> top) {
    /** An alternative token and its log-probability. */
    public record Candidate(int token, float logprob) {}
}
