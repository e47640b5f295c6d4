package ai.nuri.engine;

/**
 * What the engine reports for metrics, in seconds and counts. The engine calls these on its
 * thread; implementations must be cheap.
 */
public interface EngineObserver {
    default void onStep(int batchSize, int scheduledTokens, double seconds) {}

    default void onQueued(double queueSeconds) {}

    default void onFirstToken(double timeToFirstTokenSeconds, double prefillSeconds) {}

    default void onInterToken(double seconds) {}

    default void onFinished(FinishReason reason, int promptTokens, int generationTokens, double e2eSeconds,
            double decodeSeconds) {}

    default void onAborted(String reason) {}

    default void onRejected(EngineRejectedException.Reason reason) {}

    default void onPreemption() {}

    /** A sequence looked up {@code queriedTokens} tokens in the prefix cache and found the first {@code hitTokens}. */
    default void onPrefixCacheLookup(int queriedTokens, int hitTokens) {}

    /** A request brought {@code images} images. */
    default void onImages(int images) {}

    /** {@code images} images went through the vision tower as one batch in {@code seconds}. */
    default void onImagesEncoded(int images, double seconds) {}

    /** {@code queried} images were looked up in the encoding cache and {@code hits} found. */
    default void onImageCacheLookup(int queried, int hits) {}

    EngineObserver NONE = new EngineObserver() {};
}
