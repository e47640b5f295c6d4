package ai.nuri.engine;

import ai.nuri.model.kv.BlockTable;
import ai.nuri.text.IncrementalDetokenizer;
import ai.nuri.text.StopStringMatcher;
import ai.nuri.text.Tokenizer;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One request's state inside the engine: its tokens (prompt, then output), how many of them are
 * in the KV cache, and its decoding state. Touched only by the engine thread, except
 * {@link #cancel()} and its output state (detokenizer, stop strings, output flags), which only the
 * engine's {@link OutputProcessor} thread touches.
 */
final class Sequence {
    final EngineRequest request;
    final long arrivalNanos;
    final BlockTable blocks;
    final IncrementalDetokenizer detokenizer;
    final StopStringMatcher stops;
    final SplittableRandom random;
    final BitSet seen = new BitSet();
    final Map<Integer, Integer> outputCounts = new HashMap<>();
    private int[] tokens;
    private int length;
    private final int promptLength;
    /** Positions whose keys and values are in the cache. */
    int computed;
    long scheduledNanos;
    /** Has been in a batch at least once (preempted sequences stay admitted). */
    boolean admitted;
    /** This sequence's slot in the recurrent-state pool while it runs (hybrid models), else -1. */
    int stateSlot = -1;
    /** Full blocks of this sequence registered in (or taken from) the prefix cache. */
    int registeredBlocks;
    private long[] blockHashes = new long[8];
    /**
     * What the prefix-cache hash sees at each prompt position: the token, or for an image token
     * its image's content key and its row, so that two images never share cached blocks.
     */
    private final long[] hashKeys;
    /** Image tokens of the prompt before each position (length promptLength + 1); null without images. */
    private final int[] imageTokensBefore;
    /** Every image's feature rows, in prompt order, once encoded; null before. */
    float[] imageFeatures;
    private int hashedBlocks;
    /** Where the output stands in its UTF-8 encoding ({@link Utf8Guard}); engine thread only. */
    int utf8State = Utf8Guard.BOUNDARY;
    /** Where the output stands in its request's constraint; null without one, set on the engine thread. */
    ai.nuri.guide.GuidedSequence guide;
    long firstTokenNanos;
    long lastTokenNanos;
    private volatile boolean cancelled;
    private volatile String cancelReason;
    /** Output thread only ({@link OutputProcessor}): the output has ended; later tokens are dropped. */
    boolean outputDone;
    /** Output thread only: a stop string ended the text, and the listener is yet to hear the end. */
    boolean awaitingRetirement;
    /** Output thread only: tokens turned into output. */
    int outputTokens;
    /**
     * Set by the output thread when a stop string ended the text, to the output tokens up to it
     * (-1 until then): the engine retires the sequence.
     */
    private volatile int textStopTokens = -1;

    Sequence(EngineRequest request, BlockTable blocks, Tokenizer tokenizer, long seed) {
        this(request, blocks, tokenizer, seed, -1, 0);
    }

    /** With images: {@code imageToken} is the model's image token, {@code rowsPerImage} its tokens per image. */
    Sequence(EngineRequest request, BlockTable blocks, Tokenizer tokenizer, long seed, int imageToken, int rowsPerImage) {
        this.request = request;
        this.arrivalNanos = System.nanoTime();
        this.blocks = blocks;
        this.detokenizer = new IncrementalDetokenizer(tokenizer, true);
        this.stops = new StopStringMatcher(request.params().stop());
        this.random = new SplittableRandom(seed);
        this.promptLength = request.prompt().length;
        this.tokens = Arrays.copyOf(request.prompt(), promptLength + 16);
        this.length = promptLength;
        for (int t : request.prompt()) {
            seen.set(t);
        }
        this.hashKeys = new long[promptLength];
        this.imageTokensBefore = request.images().isEmpty() ? null : new int[promptLength + 1];
        int rows = 0;
        for (int i = 0; i < promptLength; i++) {
            int t = request.prompt()[i];
            if (imageTokensBefore != null && t == imageToken) {
                long image = request.images().get(rows / rowsPerImage).keyBits();
                // The sign bit sets image positions apart from token ids, which are never negative.
                hashKeys[i] = (image * 0x9E3779B97F4A7C15L + rows % rowsPerImage) | Long.MIN_VALUE;
                rows++;
            } else {
                hashKeys[i] = t;
            }
            if (imageTokensBefore != null) {
                imageTokensBefore[i + 1] = rows;
            }
        }
    }

    boolean hasImages() {
        return imageTokensBefore != null;
    }

    /** Image tokens before {@code position} (all of the prompt's past its end). */
    int imageTokensBefore(int position) {
        return imageTokensBefore[Math.min(position, promptLength)];
    }

    int length() {
        return length;
    }

    int promptLength() {
        return promptLength;
    }

    int outputLength() {
        return length - promptLength;
    }

    int[] tokens(int from, int to) {
        return Arrays.copyOfRange(tokens, from, to);
    }

    int lastToken() {
        return tokens[length - 1];
    }

    void append(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[length++] = token;
        seen.set(token);
        outputCounts.merge(token, 1, Integer::sum);
    }

    /** Tokens not yet in the cache: the rest of the prompt, or the last sampled token. */
    int pending() {
        return length - computed;
    }

    /**
     * The prefix-cache key of full block {@code index}: chained over every position up to the end of
     * that block with a keyed hash ({@link PrefixHash}), so equal keys mean equal prefixes and
     * nobody outside the process can make two prefixes share a key.
     */
    long blockHash(int index, int blockSize) {
        while (hashedBlocks <= index) {
            int b = hashedBlocks;
            blockHashes = hashedBlocks == blockHashes.length ? Arrays.copyOf(blockHashes, b * 2) : blockHashes;
            blockHashes[b] = PrefixHash.chain(b == 0 ? 0 : blockHashes[b - 1], blockKeys(b, blockSize));
            hashedBlocks++;
        }
        return blockHashes[index];
    }

    /** What full block {@code index} holds, one key per position: the token, or an image row's key. */
    long[] blockKeys(int index, int blockSize) {
        long[] keys = new long[blockSize];
        for (int i = 0; i < blockSize; i++) {
            int at = index * blockSize + i;
            keys[i] = at < promptLength ? hashKeys[at] : tokens[at];
        }
        return keys;
    }

    void cancel(String reason) {
        cancelReason = reason;
        cancelled = true;
    }

    /** Why it was cancelled: "cancelled" (the client went away or asked), or the server's reason. */
    String cancelReason() {
        return cancelReason == null ? "cancelled" : cancelReason;
    }

    /** The output thread found a stop string after {@code outputTokens} tokens: nothing more is wanted. */
    void stopByText(int outputTokens) {
        textStopTokens = outputTokens;
    }

    boolean isStoppedByText() {
        return textStopTokens >= 0;
    }

    /** Output tokens up to the stop string's end (what usage reports). */
    int textStopTokens() {
        return textStopTokens;
    }

    boolean isCancelled() {
        return cancelled;
    }
}
