package ai.nuri.engine;

import java.util.ArrayList;
import java.util.List;

/** Log-probabilities of the model's raw distribution (before penalties and temperature), as vLLM reports them. */
final class Logprobs {
    private Logprobs() {}

    static TokenLogprob of(float[] rawLogits, int token, int top) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : rawLogits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : rawLogits) {
            sum += Math.exp(v - max);
        }
        double logZ = max + Math.log(sum);
        List<TokenLogprob.Candidate> best = new ArrayList<>(top);
        if (top > 0) {
            // Selection of the top few without sorting the vocabulary.
            int[] ids = new int[top];
            java.util.Arrays.fill(ids, -1);
            for (int i = 0; i < rawLogits.length; i++) {
                int j = top - 1;
                if (ids[j] != -1 && rawLogits[i] <= rawLogits[ids[j]]) {
                    continue;
                }
                while (j > 0 && (ids[j - 1] == -1 || rawLogits[i] > rawLogits[ids[j - 1]])) {
                    ids[j] = ids[j - 1];
                    j--;
                }
                ids[j] = i;
            }
            for (int id : ids) {
                if (id >= 0) {
                    best.add(new TokenLogprob.Candidate(id, (float) (rawLogits[id] - logZ)));
                }
            }
        }
        return new TokenLogprob(token, (float) (rawLogits[token] - logZ), List.copyOf(best));
    }
}
