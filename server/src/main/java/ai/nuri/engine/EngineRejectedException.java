package ai.nuri.engine;

/** A request the engine will not take now: its waiting queue is full, or it is draining. */
public class EngineRejectedException extends RuntimeException {
    /** Why: names used for the rejected-requests counter. */
    public enum Reason { QUEUE_FULL, DRAINING }

    private final Reason reason;

    public EngineRejectedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
