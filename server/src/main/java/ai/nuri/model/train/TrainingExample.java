package ai.nuri.model.train;

/** A token sequence whose tokens from {@code targetStart} on are predicted (and scored). */
public record TrainingExample(int[] tokens, int targetStart) {
    public TrainingExample {
        if (targetStart < 1 || targetStart >= tokens.length) {
            throw new IllegalArgumentException("targets must start after the first token and before the end");
        }
    }
}
