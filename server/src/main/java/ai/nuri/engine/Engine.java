package ai.nuri.engine;

import ai.nuri.guide.GuidedSequence;
import ai.nuri.guide.TokenVocabulary;
import ai.nuri.model.LanguageModel;
import ai.nuri.model.DeviceDraw;
import ai.nuri.model.Readout;
import ai.nuri.model.StepLogits;
import ai.nuri.model.kv.PagedKvCache;
import ai.nuri.model.kv.RecurrentStatePool;
import ai.nuri.model.vision.ImageTokens;
import ai.nuri.model.kv.SequenceChunk;
import ai.nuri.text.Tokenizer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The continuous-batching engine of one model. One thread owns the model, its KV pool and every
 * sequence; other threads only submit and cancel. Each step: take new arrivals, drop cancelled
 * sequences, schedule a batch (prefill chunks and decode tokens together), run one forward pass,
 * sample, retire what finished, and hand the tokens to the {@link OutputProcessor}, whose own
 * thread turns them into text for the listeners while the next step runs.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private static final SecureRandom SEEDS = new SecureRandom();
    private static final int[] NO_TOKENS = {};

    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final EngineConfig config;
    private final EngineObserver observer;
    private final PagedKvCache cache;
    /** The Mamba layers' state of running sequences; null for a pure transformer. */
    private final RecurrentStatePool states;
    private final Scheduler scheduler;
    private final LinkedBlockingQueue<Sequence> inbox = new LinkedBlockingQueue<>();
    /** Submitted and not yet admitted to a batch: what the waiting-queue limit counts. */
    private final AtomicInteger queued = new AtomicInteger();
    /** Submitted and not yet finished or dropped: what draining waits for. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Set<Integer> eosIds;
    private final ImageEncodingCache encodings = new ImageEncodingCache(64);
    private final int[] eosArray;
    /** The vocabulary as constraints walk it, built at the first constrained request (engine thread only). */
    private TokenVocabulary vocabulary;
    /** Keeps unconstrained output valid UTF-8, built at the first draw (engine thread only). */
    private Utf8Guard utf8;
    /** Every token's bytes, for the two above (engine thread only). */
    private byte[][] tokenPieces;
    private final Thread thread;
    private final OutputProcessor output;
    private volatile boolean draining;
    /** Set by {@link #abortInFlight}: the reason every remaining request is to end with. */
    private volatile String stopReason;
    /** The sequences of the step being run: the ones that fail if it throws. Engine thread only. */
    private List<Sequence> stepping = List.of();
    /** The abort reason of a sequence whose logits are not finite. */
    /** The abort reason of requests still running when the server's drain time is over. */
    public static final String SHUTDOWN = "the server is shutting down";
    public static final String NUMERICAL_ERROR = "numerical error: the model's logits for this sequence are not finite";
    private volatile boolean closed;
    private volatile int runningCount;
    private volatile int waitingSnapshot;
    private volatile double kvUsage;
    private volatile double stateUsage;

    public Engine(LanguageModel model, Tokenizer tokenizer, EngineConfig config, EngineObserver observer) {
        if ((long) config.kvCacheBlocks() * config.blockSize() < config.maxModelLen()) {
            throw new IllegalArgumentException("the KV cache (" + config.kvCacheBlocks() + " blocks of "
                    + config.blockSize() + ") must hold at least one sequence of max model length " + config.maxModelLen());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.config = config;
        this.observer = observer;
        // A hybrid model's prefix is its recurrent state as well as its KV blocks; Nuri keeps no state
        // snapshots at block boundaries, so a cached prefix could not be resumed: no prefix caching.
        boolean prefixCaching = config.prefixCaching() && !model.hasRecurrentState();
        this.cache = model.newKvCache(config.kvCacheBlocks(), config.blockSize(), prefixCaching);
        this.states = model.newStatePool(config.stateSlots());
        this.scheduler = new Scheduler(config, cache.allocator(), states, observer);
        this.eosIds = Set.copyOf(model.generationConfig().eosTokenIds());
        this.eosArray = eosIds.stream().mapToInt(Integer::intValue).filter(id -> id < model.config().vocabSize()).toArray();
        this.output = new OutputProcessor("nuri-output-" + model.id());
        this.thread = new Thread(this::loop, "nuri-engine-" + model.id());
        thread.setDaemon(true);
        thread.start();
    }

    /** Lets a caller cancel what it submitted. */
    public interface Handle {
        void cancel();

        /** Cancels with a reason other than the client's own (for example {@link #SLOW_READER}), as metrics count it. */
        default void cancel(String reason) {
            cancel();
        }
    }

    /** The abort reason of a request dropped because its client stopped reading its stream. */
    public static final String SLOW_READER = "slow reader";

    /**
     * Queues a request. Throws {@link EngineRejectedException} when draining or when the waiting
     * queue is full; the request then costs nothing.
     */
    public Handle submit(EngineRequest request) {
        if (draining || closed) {
            observer.onRejected(EngineRejectedException.Reason.DRAINING);
            throw new EngineRejectedException(EngineRejectedException.Reason.DRAINING, "the server is shutting down");
        }
        if (!request.images().isEmpty()) {
            checkImages(request);
        }
        if (request.prompt().length + 1 > config.maxModelLen()) {
            throw new IllegalArgumentException("the prompt has " + request.prompt().length
                    + " tokens; the maximum context length is " + config.maxModelLen());
        }
        if (queued.incrementAndGet() > config.maxWaiting()) {
            queued.decrementAndGet();
            observer.onRejected(EngineRejectedException.Reason.QUEUE_FULL);
            throw new EngineRejectedException(EngineRejectedException.Reason.QUEUE_FULL, "too many requests are waiting");
        }
        Long seed = request.params().seed();
        Sequence s = new Sequence(request, cache.newBlockTable(), tokenizer, seed != null ? seed : SEEDS.nextLong(),
                model.imageTokenId(), model.imageTokensPerImage());
        if (!request.images().isEmpty()) {
            observer.onImages(request.images().size());
        }
        inFlight.incrementAndGet();
        inbox.add(s);
        return new Handle() {
            @Override
            public void cancel() {
                s.cancel("cancelled");
            }

            @Override
            public void cancel(String reason) {
                s.cancel(reason);
            }
        };
    }

    /** A request's images must suit the model and match its image tokens one for one. */
    private void checkImages(EngineRequest request) {
        if (!model.acceptsImages()) {
            throw new IllegalArgumentException("model '" + model.id() + "' does not accept images");
        }
        int tokens = ImageTokens.count(request.prompt(), model.imageTokenId());
        if (tokens != request.images().size() * model.imageTokensPerImage()) {
            throw new IllegalArgumentException("the prompt has " + tokens + " image tokens for " + request.images().size()
                    + " images of " + model.imageTokensPerImage() + " tokens each");
        }
    }

    private void loop() {
        while (!closed) {
            try {
                takeArrivals();
                String stop = stopReason;
                if (stop != null) {
                    stopReason = null;
                    abortAll(stop);
                }
                dropCancelled();
                if (scheduler.isIdle()) {
                    continue;
                }
                step();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                // Only this step's sequences fail (their KV may be half written); the rest, and the engine, go on.
                LOG.error("engine step failed; failing its {} sequences", stepping.size(), e);
                for (Sequence s : stepping) {
                    if (scheduler.running.contains(s) || scheduler.waiting.contains(s)) {
                        abort(s, "engine error: " + e);
                    }
                }
            } finally {
                stepping = List.of();
                refreshSnapshots();
            }
        }
        abortAll("the engine stopped");
    }

    private void takeArrivals() throws InterruptedException {
        Sequence first = scheduler.isIdle() ? inbox.poll(50, TimeUnit.MILLISECONDS) : inbox.poll();
        if (first == null) {
            return;
        }
        scheduler.waiting.add(first);
        waitingSnapshot = scheduler.waiting.size();
        // Peeked, counted, then taken: the waiting gauge (snapshot + inbox) may count an arrival twice
        // for an instant, never miss it. Refreshed only after the step, it missed every arrival for a
        // whole step (a test saw a waiting request read as 0 between two scrapes).
        Sequence next;
        while ((next = inbox.peek()) != null) {
            scheduler.waiting.add(next);
            waitingSnapshot = scheduler.waiting.size();
            inbox.poll();
        }
    }

    /** Retires sequences a stop string ended (they finished) and drops cancelled ones. */
    private void dropCancelled() {
        List<Sequence> all = new ArrayList<>(scheduler.running);
        all.addAll(scheduler.waiting);
        for (Sequence s : all) {
            if (s.isStoppedByText()) {
                finished(s, FinishReason.STOP, s.textStopTokens());
                output.finishStopped(s);
            } else if (s.isCancelled()) {
                abort(s, s.cancelReason());
            }
        }
    }

    /** What other threads read (gauges, tests): taken on the engine thread, which owns the pools. */
    private void refreshSnapshots() {
        runningCount = scheduler.running.size();
        waitingSnapshot = scheduler.waiting.size();
        kvUsage = cache.usage();
        stateUsage = states == null ? 0 : states.usage();
    }

    /**
     * Takes a sequence out of the engine: its blocks return to the pool, the counts drop. The
     * snapshots are refreshed before its listener hears of the end, so a caller that saw its
     * request finish never reads usage that still counts it.
     */
    private void retire(Sequence s) {
        if (!s.admitted) {
            queued.decrementAndGet();
        }
        scheduler.remove(s);
        inFlight.decrementAndGet();
        refreshSnapshots();
    }

    /** Takes a finished sequence out and counts it; its listener hears of the end only after this. */
    private void finished(Sequence s, FinishReason reason, int outputTokens) {
        retire(s);
        long now = System.nanoTime();
        observer.onFinished(reason, s.promptLength(), outputTokens, (now - s.arrivalNanos) / 1e9,
                (now - s.firstTokenNanos) / 1e9);
    }

    private void abort(Sequence s, String reason) {
        retire(s);
        observer.onAborted(reason);
        output.abort(s, reason);
    }

    private void step() {
        long stepStart = System.nanoTime(); // nuri_engine_step_seconds: the whole step, scheduling to sampling
        List<Scheduler.Scheduled> plan = scheduler.schedule();
        stepping = plan.stream().map(Scheduler.Scheduled::sequence).toList();
        refreshSnapshots(); // the gauges see this step's admissions before its tokens reach anyone
        for (Scheduler.Scheduled sc : plan) {
            if (!sc.sequence().admitted) {
                sc.sequence().admitted = true;
                queued.decrementAndGet();
            }
        }
        if (plan.isEmpty()) {
            return;
        }
        encodeImages(plan);
        List<SequenceChunk> chunks = new ArrayList<>(plan.size());
        int tokens = 0;
        for (Scheduler.Scheduled sc : plan) {
            Sequence s = sc.sequence();
            SequenceChunk.ImageRows images = s.hasImages() && s.computed < s.promptLength()
                    ? new SequenceChunk.ImageRows(s.imageFeatures, s.imageTokensBefore(s.computed)) : null;
            chunks.add(new SequenceChunk(s.blocks, s.stateSlot, s.tokens(s.computed, s.computed + sc.tokens()),
                    s.computed, images, s.computed + sc.tokens() == s.length())); // logits only where a token is sampled
            tokens += sc.tokens();
        }
        StepLogits logits = model.forward(chunks, cache, states, readout(plan));
        List<Sequence> sampling = new ArrayList<>(plan.size());
        List<float[]> rows = new ArrayList<>(plan.size());
        List<Integer> reduced = new ArrayList<>(plan.size());
        for (int i = 0; i < plan.size(); i++) {
            Sequence s = plan.get(i).sequence();
            s.computed += plan.get(i).tokens();
            scheduler.registerFullBlocks(s);
            if (s.computed == s.length()) {
                sampling.add(s);
                rows.add(logits.rows()[i]);
                reduced.add(logits.rows()[i] == null ? logits.argmax()[i] : null);
            }
        }
        Draw[] draws = drawAll(sampling, rows, reduced);
        for (int k = 0; k < draws.length; k++) {
            emitOrFail(sampling.get(k), draws[k]);
        }
        observer.onStep(plan.size(), tokens, (System.nanoTime() - stepStart) / 1e9);
    }

    /**
     * Encodes the images of sequences about to prefill for the first time: cached encodings are
     * reused, the rest go through the vision tower together, once per request (a preempted
     * sequence keeps its features).
     */
    private void encodeImages(List<Scheduler.Scheduled> plan) {
        List<Sequence> waiting = new ArrayList<>();
        // This step's encodings by image key: cached ones, then the rest computed below. Kept here, not
        // only in the cache, so that a step with more images than the cache holds still has them all.
        java.util.Map<String, float[]> features = new java.util.HashMap<>();
        java.util.Map<String, EngineImage> missing = new java.util.LinkedHashMap<>();
        int queried = 0;
        for (Scheduler.Scheduled sc : plan) {
            Sequence s = sc.sequence();
            if (!s.hasImages() || s.imageFeatures != null) {
                continue;
            }
            waiting.add(s);
            for (EngineImage image : s.request.images()) {
                queried++;
                float[] cached = encodings.get(image.key());
                if (cached != null) {
                    features.put(image.key(), cached);
                } else {
                    missing.putIfAbsent(image.key(), image);
                }
            }
        }
        if (waiting.isEmpty()) {
            return;
        }
        observer.onImageCacheLookup(queried, queried - missing.size());
        // One batch per image size (a model's preprocessor gives one size, so usually one batch).
        java.util.Map<String, List<EngineImage>> bySize = new java.util.LinkedHashMap<>();
        for (EngineImage image : missing.values()) {
            bySize.computeIfAbsent(image.height() + "x" + image.width(), k -> new ArrayList<>()).add(image);
        }
        for (List<EngineImage> group : bySize.values()) {
            long t0 = System.nanoTime();
            float[][] encoded = model.encodeImages(group.stream().map(EngineImage::pixels).toList(),
                    group.get(0).height(), group.get(0).width());
            observer.onImagesEncoded(group.size(), (System.nanoTime() - t0) / 1e9);
            for (int i = 0; i < group.size(); i++) {
                features.put(group.get(i).key(), encoded[i]);
                encodings.put(group.get(i).key(), encoded[i]);
            }
        }
        for (Sequence s : waiting) {
            List<float[]> parts = s.request.images().stream().map(image -> features.get(image.key())).toList();
            float[] all = new float[parts.stream().mapToInt(f -> f.length).sum()];
            int at = 0;
            for (float[] f : parts) {
                System.arraycopy(f, 0, all, at, f.length);
                at += f.length;
            }
            s.imageFeatures = all;
        }
    }

    /**
     * Which rows the model reduces to one token where the logits are: draws that need nothing else
     * of the row (no penalties, logprobs or constraint, at a character boundary, where the UTF-8
     * guard refuses the same tokens for everyone) go to their argmax if greedy, and where the model
     * samples on its device ({@link LanguageModel#samplesOnDevice}: a GPU) are drawn there too. Only
     * their ids cross to the heap; on the CPU the argmax runs in libtorch's vectorised loop.
     */
    private Readout readout(List<Scheduler.Scheduled> plan) {
        boolean[] argmaxOnly = new boolean[plan.size()];
        DeviceDraw[] draws = new DeviceDraw[plan.size()];
        boolean onDevice = model.samplesOnDevice();
        boolean any = false;
        for (int i = 0; i < plan.size(); i++) { // a chunk that wants no logits ignores its entry
            Sequence s = plan.get(i).sequence();
            if (!needsOnlyItsToken(s)) {
                continue;
            }
            SamplingParams p = s.request.params();
            if (p.isGreedy()) {
                argmaxOnly[i] = true;
            } else if (onDevice && s.computed + plan.get(i).tokens() == s.length()) {
                // The uniform from the sequence's own stream, only for a chunk that samples: a seed fixes the draw.
                draws[i] = new DeviceDraw((float) p.temperature(), p.topK(), (float) p.topP(), (float) p.minP(),
                        s.random.nextDouble());
            }
            any |= argmaxOnly[i] || draws[i] != null;
        }
        return any ? new Readout(argmaxOnly, draws, utf8().refusedAtBoundary()) : Readout.whole(plan.size());
    }

    /** A row whose draw needs nothing but its logits: no penalties, logprobs or constraint, at a character boundary. */
    private static boolean needsOnlyItsToken(Sequence s) {
        SamplingParams p = s.request.params();
        return p.repetitionPenalty() == 1.0 && p.frequencyPenalty() == 0 && p.presencePenalty() == 0
                && s.request.logprobs() < 0 && s.request.constraint() == null && s.utf8State == Utf8Guard.BOUNDARY;
    }

    /** A sequence's next token and, if it asked for logprobs, its raw logits; or why it fails. */
    private record Draw(int token, float[] raw, String failure) {
        static Draw failed(String failure) {
            return new Draw(-1, null, failure);
        }
    }

    /** Rows sampled on the common fork-join pool from this many up; fewer are not worth handing over. */
    private static final int PARALLEL_ROWS = 4;

    /**
     * Draws every sampled sequence's next token. Rows are independent (each sequence has its own
     * random stream, penalties and UTF-8 state), so unconstrained ones are drawn in parallel: at
     * batch 64 with a large vocabulary sampling is otherwise a large share of a CPU step. Rows with
     * an output constraint are drawn here, on the engine thread: the constraint's vocabulary keeps
     * caches that are not shared across threads.
     */
    private Draw[] drawAll(List<Sequence> sequences, List<float[]> rows, List<Integer> reduced) {
        Draw[] draws = new Draw[sequences.size()];
        for (int k = 0; k < draws.length; k++) {
            Integer token = reduced.get(k);
            if (token != null && token == StepLogits.NOT_FINITE) {
                LOG.warn("sequence failed: the model's logits are not finite (NaN or +infinity)");
                draws[k] = Draw.failed(NUMERICAL_ERROR);
            } else if (token != null) {
                draws[k] = new Draw(token, null, null); // drawn by the model: the row's argmax, or its device draw
            }
        }
        boolean anyFree = sequences.stream().anyMatch(s -> s.request.constraint() == null);
        if (anyFree) {
            utf8(); // built once here; the drawing threads only read it
        }
        java.util.stream.IntStream free = java.util.stream.IntStream.range(0, draws.length)
                .filter(k -> draws[k] == null && sequences.get(k).request.constraint() == null);
        (draws.length >= PARALLEL_ROWS ? free.parallel() : free).forEach(k -> draws[k] = draw(sequences.get(k), rows.get(k)));
        for (int k = 0; k < draws.length; k++) {
            if (draws[k] == null) {
                draws[k] = draw(sequences.get(k), rows.get(k));
            }
        }
        return draws;
    }

    /**
     * Picks one sequence's next token. Touches only that sequence's own state (and, for a
     * constrained one, the shared vocabulary). A fault confined to the sequence (non-finite
     * logits, as an fp16 overflow gives, or an exception while sampling it) is its failure.
     */
    private Draw draw(Sequence s, float[] logits) {
        for (float v : logits) {
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
                LOG.warn("sequence failed: the model's logits are not finite (NaN or +infinity)");
                return Draw.failed(NUMERICAL_ERROR);
            }
        }
        try {
            SamplingParams p = s.request.params();
            float[] raw = s.request.logprobs() >= 0 ? logits.clone() : null;
            if (s.request.constraint() != null) {
                if (s.guide == null) {
                    s.guide = new GuidedSequence(s.request.constraint(), vocabulary());
                }
                // End-of-sequence only where the text is complete (and never with ignore_eos: max_tokens decides).
                boolean mayEnd = s.guide.mayEnd() && !p.ignoreEos();
                if (!Sampler.constrain(logits, s.guide.allowedTokens(), mayEnd ? eosArray : NO_TOKENS)) {
                    return Draw.failed("the output constraint cannot be continued with this model's vocabulary");
                }
            } else {
                utf8().restrict(logits, s.utf8State); // a constraint walks UTF-8 itself
            }
            return new Draw(Sampler.sample(logits, p, s.seen, s.outputCounts, s.random), raw, null);
        } catch (RuntimeException e) {
            LOG.error("sampling failed; failing this sequence only", e);
            return Draw.failed("engine error: " + e);
        }
    }

    /** Appends a drawn token and sends it on, or fails the sequence alone. */
    private void emitOrFail(Sequence s, Draw draw) {
        if (draw.failure() != null) {
            abort(s, draw.failure());
            return;
        }
        try {
            emit(s, draw.token(), draw.raw());
        } catch (RuntimeException e) {
            LOG.error("emitting a token failed; failing this sequence only", e);
            abort(s, "engine error: " + e);
        }
    }

    /**
     * Takes a sampled token into its sequence and decides every end the token alone shows; the
     * text, stop strings and the listener's calls are the output processor's.
     */
    private void emit(Sequence s, int token, float[] raw) {
        if (s.isStoppedByText()) {
            return; // its text has ended; it is retired at the start of the next step
        }
        SamplingParams p = s.request.params();
        boolean constraintDone = false;
        if (s.guide != null && !eosIds.contains(token)) {
            if (!s.guide.advance(token)) { // only with non-finite logits: this sequence fails, the others go on
                abort(s, "sampled token " + token + " is outside the output constraint (non-finite logits?)");
                return;
            }
            constraintDone = s.guide.mustEnd();
        }
        s.append(token);
        if (s.guide == null) {
            s.utf8State = utf8().advance(s.utf8State, token);
        }
        long now = System.nanoTime();
        if (s.firstTokenNanos == 0) {
            s.firstTokenNanos = now;
            observer.onFirstToken((now - s.arrivalNanos) / 1e9, (now - s.scheduledNanos) / 1e9);
        } else {
            observer.onInterToken((now - s.lastTokenNanos) / 1e9);
        }
        s.lastTokenNanos = now;

        boolean stopToken = p.stopTokenIds().contains(token) || (!p.ignoreEos() && eosIds.contains(token));
        FinishReason finish = null;
        if (stopToken || constraintDone) { // a constrained text that is complete may have nothing after it
            finish = FinishReason.STOP;
        } else if (s.outputLength() >= p.maxTokens() || s.length() >= config.maxModelLen()) {
            finish = FinishReason.LENGTH;
        }
        if (finish != null) {
            finished(s, finish, s.outputLength());
        }
        output.token(s, token, raw, finish, stopToken);
    }

    private Utf8Guard utf8() {
        if (utf8 == null) {
            utf8 = new Utf8Guard(tokenPieces(), controlTokens());
        }
        return utf8;
    }

    private TokenVocabulary vocabulary() {
        if (vocabulary == null) {
            // End-of-sequence is excluded with the special tokens: a constraint allows it apart, where the text may end.
            vocabulary = new TokenVocabulary(tokenPieces(), controlTokens(), 256L << 20);
        }
        return vocabulary;
    }

    /** Each token id's bytes (empty for ids the tokenizer does not know), read once; both users only read it. */
    private byte[][] tokenPieces() {
        if (tokenPieces == null) {
            tokenPieces = new byte[model.config().vocabSize()][];
            for (int id = 0; id < tokenPieces.length; id++) {
                tokenPieces[id] = tokenizer.tokenBytes(id);
            }
        }
        return tokenPieces;
    }

    /** The special tokens and end-of-sequence ids: tokens that stand for no text. */
    private java.util.BitSet controlTokens() {
        java.util.BitSet control = tokenizer.specialTokenIds();
        eosIds.forEach(control::set);
        return control;
    }

    private void abortAll(String reason) {
        List<Sequence> all = new ArrayList<>(scheduler.running);
        all.addAll(scheduler.waiting);
        Sequence s;
        while ((s = inbox.poll()) != null) {
            all.add(s);
        }
        for (Sequence seq : all) {
            abort(seq, reason);
        }
    }

    /**
     * Ends every request still queued or running with {@code reason} (the server's drain time is
     * over); taken up by the engine thread at the start of its next step.
     */
    public void abortInFlight(String reason) {
        stopReason = reason;
    }

    /** Stops taking requests; those already queued or running still finish. */
    public void startDraining() {
        draining = true;
    }

    public boolean isDraining() {
        return draining;
    }

    /** True while the engine thread runs: what liveness means. */
    public boolean isAlive() {
        return thread.isAlive();
    }

    /** Nothing queued, running, or with output still to deliver. */
    public boolean isIdle() {
        return inFlight.get() == 0 && output.isIdle();
    }

    public int runningCount() {
        return runningCount;
    }

    /** Sequences waiting for a batch: new arrivals and preempted ones. */
    public int waitingCount() {
        return waitingSnapshot + inbox.size();
    }

    public double kvCacheUsage() {
        return kvUsage;
    }

    /** Fraction of recurrent-state slots in use (0 for models without recurrent layers). */
    public double stateUsage() {
        return stateUsage;
    }

    /** Whether prompt prefixes are shared: as configured, except never for hybrid models. */
    public boolean prefixCaching() {
        return cache.allocator().prefixCaching();
    }

    public EngineConfig config() {
        return config;
    }

    public LanguageModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        output.close(); // after the engine thread: the ends it told at its exit are delivered
        cache.close();
        if (states != null) {
            states.close();
        }
    }
}
