package ai.nuri.engine;

import java.util.List;

/**
 * Receives one sequence's output. Called on the engine's output thread ({@link OutputProcessor}),
 * in order; implementations hand the work to their own thread (the HTTP layer uses its Vert.x
 * context) and return at once.
 */
public interface SequenceListener {
    /** Newly completed text and the tokens produced since the last call (logprobs if asked). */
    void onDelta(String text, int[] tokens, List<TokenLogprob> logprobs);

    /** The sequence ended normally. */
    void onFinish(FinishReason reason, int promptTokens, int completionTokens);

    /** The sequence was dropped: cancelled, or the engine failed. Not called after onFinish. */
    void onAbort(String reason);
}
