package ai.nuri.media;

/** An image that cannot be used, with a message fit to show the client who sent it. */
public final class MediaException extends RuntimeException {
    public MediaException(String message) {
        super(message);
    }

    public MediaException(String message, Throwable cause) {
        super(message, cause);
    }
}
