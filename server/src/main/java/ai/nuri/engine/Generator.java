package ai.nuri.engine;

import ai.nuri.model.LanguageModel;
import ai.nuri.model.kv.BlockTable;
import ai.nuri.model.kv.PagedKvCache;
import ai.nuri.model.kv.SequenceChunk;
import ai.nuri.text.IncrementalDetokenizer;
import ai.nuri.text.StopStringMatcher;
import ai.nuri.text.Tokenizer;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Generates one sequence at a time over the paged forward pass: chunked prefill, then one token
 * per step, streaming complete text as it is produced. This is the single-stream loop the CLI
 * uses; the serving engine batches many sequences through the same model calls.
 */
public final class Generator {
    private static final SecureRandom SEEDS = new SecureRandom();

    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final PagedKvCache cache;
    private final int prefillChunk;

    public Generator(LanguageModel model, Tokenizer tokenizer, PagedKvCache cache, int prefillChunk) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.cache = cache;
        this.prefillChunk = prefillChunk;
    }

    /** The finished generation. */
    public record Result(String text, int[] tokens, FinishReason finishReason, int promptTokens) {}

    public Result generate(int[] prompt, SamplingParams params, Consumer<String> onText) {
        int contextLength = model.config().maxPositionEmbeddings();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        if (prompt.length >= contextLength) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens; this model's context is "
                    + contextLength);
        }
        Set<Integer> stopIds = new HashSet<>(params.stopTokenIds());
        if (!params.ignoreEos()) {
            stopIds.addAll(model.generationConfig().eosTokenIds());
        }
        SplittableRandom random = new SplittableRandom(params.seed() != null ? params.seed() : SEEDS.nextLong());
        BitSet seen = new BitSet();
        Arrays.stream(prompt).forEach(seen::set);
        Map<Integer, Integer> counts = new HashMap<>();
        IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(tokenizer, true);
        StopStringMatcher stops = new StopStringMatcher(params.stop());
        StringBuilder text = new StringBuilder();
        int[] output = new int[Math.min(params.maxTokens(), contextLength - prompt.length)];
        int produced = 0;
        FinishReason reason = FinishReason.LENGTH;
        boolean stoppedByString = false;

        BlockTable blocks = cache.newBlockTable();
        try {
            float[] logits = prefill(prompt, blocks);
            while (produced < output.length) {
                int token = Sampler.sample(logits, params, seen, counts, random);
                output[produced++] = token;
                seen.set(token);
                counts.merge(token, 1, Integer::sum);
                if (stopIds.contains(token)) {
                    reason = FinishReason.STOP;
                    break;
                }
                StopStringMatcher.Step step = stops.offer(detokenizer.add(token));
                emit(step.emit(), text, onText);
                if (step.stopped()) {
                    reason = FinishReason.STOP;
                    stoppedByString = true;
                    break;
                }
                if (produced == output.length) {
                    break;
                }
                int position = prompt.length + produced - 1;
                reserve(blocks, position + 1);
                logits = model.forward(List.of(new SequenceChunk(blocks, new int[] {token}, position)), cache)[0];
            }
            if (!stoppedByString) {
                // Text held back (an incomplete character, or a possible start of a stop string) is final now.
                StopStringMatcher.Step last = stops.offer(detokenizer.flush());
                emit(last.emit() + stops.flush(), text, onText);
            }
        } finally {
            blocks.release(cache.allocator());
        }
        return new Result(text.toString(), Arrays.copyOf(output, produced), reason, prompt.length);
    }

    private float[] prefill(int[] prompt, BlockTable blocks) {
        reserve(blocks, prompt.length);
        float[] logits = null;
        for (int start = 0; start < prompt.length; start += prefillChunk) {
            int end = Math.min(prompt.length, start + prefillChunk);
            logits = model.forward(List.of(new SequenceChunk(blocks, Arrays.copyOfRange(prompt, start, end), start)),
                    cache)[0];
        }
        return logits;
    }

    private void reserve(BlockTable blocks, int tokens) {
        if (!blocks.reserve(tokens, cache.allocator())) {
            throw new IllegalStateException("the KV cache has no room for " + tokens + " tokens");
        }
    }

    private static void emit(String delta, StringBuilder text, Consumer<String> onText) {
        if (!delta.isEmpty()) {
            text.append(delta);
            onText.accept(delta);
        }
    }
}
