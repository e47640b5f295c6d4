package ai.nuri.http;

import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;
import java.time.Duration;

/**
 * Back-pressure on a stream: when the client reads slower than tokens come, the response's write
 * queue fills. The guard then gives the client {@code patience} to catch up (the queue draining
 * below its mark); a client that does not, or whose queue grows past a hard bound meanwhile, is
 * dropped: {@code onSlow} cancels its generation and the connection is closed. The server so
 * never buffers more for one client than the bound, however slowly it reads.
 */
final class SlowReaderGuard {
    /** What the write queue holds before it counts as full (Vert.x's mark). */
    static final int QUEUE_MARK = 256 * 1024;
    /** Writes accepted while full before the client is dropped even within its patience. */
    private static final int MAX_WRITES_WHILE_FULL = 4096;
    private final HttpServerResponse response;
    private final Context context;
    private final long patienceMillis;
    private final Runnable onSlow;
    private long timer = -1;
    private int writesWhileFull;
    private boolean dropped;

    SlowReaderGuard(HttpServerResponse response, Context context, Duration patience, Runnable onSlow) {
        this.response = response;
        this.context = context;
        this.patienceMillis = Math.max(1, patience.toMillis());
        this.onSlow = onSlow;
        response.setWriteQueueMaxSize(QUEUE_MARK);
    }

    /** Called after each write to the stream, on the request's context. */
    void afterWrite() {
        if (dropped || !response.writeQueueFull()) {
            return;
        }
        if (++writesWhileFull > MAX_WRITES_WHILE_FULL) {
            drop();
            return;
        }
        if (timer < 0) {
            timer = context.owner().setTimer(patienceMillis, id -> {
                timer = -1;
                if (response.writeQueueFull()) {
                    drop();
                }
            });
            response.drainHandler(v -> {
                writesWhileFull = 0;
                if (timer >= 0) {
                    context.owner().cancelTimer(timer);
                    timer = -1;
                }
            });
        }
    }

    boolean dropped() {
        return dropped;
    }

    private void drop() {
        dropped = true;
        if (timer >= 0) {
            context.owner().cancelTimer(timer);
            timer = -1;
        }
        onSlow.run();
        response.reset(); // nothing more is queued for this client
    }
}
