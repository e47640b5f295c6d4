package ai.nuri.guide;

/**
 * A constraint that cannot be compiled: outside the supported subset or malformed.
 * {@code keyword} is the schema keyword or part at fault (for the client's error), or null.
 */
public final class GuideException extends IllegalArgumentException {
    private final String keyword;

    public GuideException(String message, String keyword) {
        super(message);
        this.keyword = keyword;
    }

    public String keyword() {
        return keyword;
    }
}
