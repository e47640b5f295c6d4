package ai.nuri.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Time limits on what a client sends, as nginx's client_header_timeout, client_body_timeout and
 * keepalive_timeout set them: a connection must bring a complete request head within the limit of
 * opening (or of its last response ending), and the body within the limit of its head. A slowloris
 * client, trickling a header a byte at a time, or an idle keep-alive connection is closed; a client
 * reading a long stream is not (it owes nothing while the server writes).
 */
final class ConnectionGuard {
    private static final String BODY_TIMER = "nuri.bodyTimer";
    private final Vertx vertx;
    private final long limitMillis;
    /** Per connection: the timer waiting for its next request head. */
    private final Map<HttpConnection, Long> awaitingHead = new ConcurrentHashMap<>();

    ConnectionGuard(Vertx vertx, Duration limit) {
        this.vertx = vertx;
        this.limitMillis = Math.max(1, limit.toMillis());
    }

    /** The server's connection handler: the head must arrive in time. */
    void connected(HttpConnection connection) {
        awaitHead(connection);
        connection.closeHandler(v -> {
            Long timer = awaitingHead.remove(connection);
            if (timer != null) {
                vertx.cancelTimer(timer);
            }
        });
    }

    /** First handler of every request (the head is in): the body must follow in time. */
    void headReceived(RoutingContext ctx) {
        HttpConnection connection = ctx.request().connection();
        Long timer = awaitingHead.remove(connection);
        if (timer != null) {
            vertx.cancelTimer(timer);
        }
        ctx.put(BODY_TIMER, vertx.setTimer(limitMillis, id -> connection.close()));
        ctx.addEndHandler(done -> {
            cancelBodyTimer(ctx);
            if (done.succeeded()) {
                awaitHead(connection); // keep-alive: the next request's head is owed from now
            }
        });
        ctx.next();
    }

    /** After the body handler: the body is in. */
    void bodyReceived(RoutingContext ctx) {
        cancelBodyTimer(ctx);
        ctx.next();
    }

    private void cancelBodyTimer(RoutingContext ctx) {
        Long timer = ctx.get(BODY_TIMER);
        if (timer != null) {
            vertx.cancelTimer(timer);
            ctx.remove(BODY_TIMER);
        }
    }

    private void awaitHead(HttpConnection connection) {
        long timer = vertx.setTimer(limitMillis, id -> {
            if (awaitingHead.remove(connection) != null) {
                connection.close();
            }
        });
        Long previous = awaitingHead.put(connection, timer);
        if (previous != null) {
            vertx.cancelTimer(previous);
        }
    }
}
