package ai.nuri.engine;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the engine's tokens into what each sequence's listener hears, on a thread of its own
 * (vLLM's output processor): incremental detokenizing, stop strings, logprobs, and every listener
 * call, in order per sequence. The engine's next step starts while this step's text is made.
 *
 * <p>The engine decides every end it can see from the token alone (a stop token, a complete
 * constraint, the length limit) and retires the sequence at once. A stop string only shows in
 * the text: it ends the text here, the engine is told ({@link Sequence#stopByText}), retires the
 * sequence at the start of its next step and then calls {@link #finishStopped}, so that, as for
 * every other end, a listener hears of it only once the engine no longer counts the sequence. A
 * token the engine made meanwhile is dropped.
 */
final class OutputProcessor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OutputProcessor.class);

    private final ExecutorService thread;
    /** Tasks queued and not yet run: the engine is idle only when this is 0 too. */
    private final AtomicInteger pending = new AtomicInteger();

    OutputProcessor(String name) {
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * One sampled token of {@code s}. {@code engineEnd} is the end the engine decided with this
     * token (null if none); {@code stopToken} says it was a stop or end-of-sequence token, which
     * shows no text. {@code raw} is the row of logits when logprobs were asked, else null.
     */
    void token(Sequence s, int token, float[] raw, FinishReason engineEnd, boolean stopToken) {
        submit(s, () -> {
            if (s.outputDone) {
                return; // made after a stop string ended the output
            }
            s.outputTokens++;
            FinishReason finish = engineEnd;
            boolean byStopString = false;
            String text = "";
            if (!stopToken) {
                var step = s.stops.offer(s.detokenizer.add(token));
                text = step.emit();
                if (step.stopped()) {
                    finish = FinishReason.STOP;
                    byStopString = true;
                }
            }
            if (finish != null && !byStopString) {
                text = text + s.stops.offer(s.detokenizer.flush()).emit() + s.stops.flush();
            }
            List<TokenLogprob> lps = raw == null ? List.of() : List.of(Logprobs.of(raw, token, s.request.logprobs()));
            s.request.listener().onDelta(text, new int[] {token}, lps);
            if (finish != null) {
                s.outputDone = true;
                if (engineEnd == null) { // the engine still runs it: the end is told once it is retired
                    s.awaitingRetirement = true;
                    s.stopByText(s.outputTokens);
                } else {
                    s.request.listener().onFinish(finish, s.promptLength(), s.outputTokens);
                }
            }
        });
    }

    /** The engine retired a sequence a stop string ended: its listener hears the end now. */
    void finishStopped(Sequence s) {
        submit(s, () -> finishIfAwaited(s));
    }

    /** The sequence was dropped: its listener hears so after anything already queued for it. */
    void abort(Sequence s, String reason) {
        submit(s, () -> {
            if (!finishIfAwaited(s) && !s.outputDone) {
                s.outputDone = true;
                s.request.listener().onAbort(reason);
            }
        });
    }

    /** A stop string's end, if one is waiting to be told (a drop after it is no failure). */
    private static boolean finishIfAwaited(Sequence s) {
        if (!s.awaitingRetirement) {
            return false;
        }
        s.awaitingRetirement = false;
        s.request.listener().onFinish(FinishReason.STOP, s.promptLength(), s.outputTokens);
        return true;
    }

    /** No output waiting to be made or delivered. */
    boolean isIdle() {
        return pending.get() == 0;
    }

    /** Runs a task of {@code s}'s; if it fails, that sequence alone fails (the engine is told to drop it). */
    private void submit(Sequence s, Runnable task) {
        pending.incrementAndGet();
        thread.execute(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("output processing failed; failing this sequence only", e);
                if (!s.outputDone) {
                    s.outputDone = true;
                    s.cancel("engine error: " + e);
                    s.request.listener().onAbort("engine error: " + e);
                }
            } finally {
                pending.decrementAndGet();
            }
        });
    }

    /** Delivers what is queued (up to a few seconds), then stops. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
