package ai.nuri.guide;

/**
 * One sequence's place in its grammar while it is generated: which tokens may come next, whether
 * it may end here, and the step to take once a token is chosen.
 */
public final class GuidedSequence {
    private final Grammar grammar;
    private final TokenVocabulary vocabulary;
    private long walk = Utf8Walk.start();

    public GuidedSequence(Grammar grammar, TokenVocabulary vocabulary) {
        this.grammar = grammar;
        this.vocabulary = vocabulary;
    }

    /** Tokens allowed next (bit i = token i); end-of-sequence apart, see {@link #mayEnd()}. Read-only. */
    public long[] allowedTokens() {
        return vocabulary.allowed(grammar, walk);
    }

    /** The text so far is a whole sentence of the grammar: end-of-sequence is allowed. */
    public boolean mayEnd() {
        return Utf8Walk.atBoundary(walk) && grammar.isAccept(Utf8Walk.grammarState(walk));
    }

    /** The text so far is complete and nothing may follow: the sequence is done. */
    public boolean mustEnd() {
        return mayEnd() && !grammar.canContinue(Utf8Walk.grammarState(walk));
    }

    /** Takes {@code token}; false (and no change) if the grammar does not allow it. */
    public boolean advance(int token) {
        long next = vocabulary.advance(grammar, walk, token);
        if (next == Utf8Walk.DEAD) {
            return false;
        }
        walk = next;
        return true;
    }

    public Grammar grammar() {
        return grammar;
    }
}
