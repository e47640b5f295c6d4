package ai.nuri.http;

import io.vertx.ext.web.RoutingContext;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the logger {@code nuri.access}: request id, method, route, model, status,
 * tokens, latency and client address. Prompt and completion text appear only with
 * {@code --log-prompts}: a public service's default keeps what citizens write out of its logs.
 * Every response carries its request id in {@code x-request-id}, the client's own if it sent a
 * usable one.
 */
final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("nuri.access");
    static final String REQUEST_ID = "x-request-id";
    private static final String ENTRY = "nuri.access";

    /** What a responder knows at the end: the tokens, and (logged only with --log-prompts) the text. */
    record Usage(int promptTokens, int completionTokens, String completion) {}

    /** Filled in while the request runs; written when its response ends. */
    static final class Entry {
        final String requestId;
        final long startNanos = System.nanoTime();
        volatile String model;
        volatile String prompt;
        volatile Supplier<Usage> usage;

        Entry(String requestId) {
            this.requestId = requestId;
        }
    }

    private final boolean logPrompts;

    AccessLog(boolean logPrompts) {
        this.logPrompts = logPrompts;
    }

    boolean logPrompts() {
        return logPrompts;
    }

    /** The first handler of every request: its id on the response, its line when the response ends. */
    void handle(RoutingContext ctx) {
        Entry entry = new Entry(requestId(ctx.request().getHeader(REQUEST_ID)));
        ctx.put(ENTRY, entry);
        ctx.response().putHeader(REQUEST_ID, entry.requestId);
        String path = ctx.request().path();
        if (!"/health".equals(path) && !"/ready".equals(path) && !"/metrics".equals(path)) { // probes would drown the API
            ctx.addEndHandler(done -> write(ctx, entry));
        }
        ctx.next();
    }

    static Entry entry(RoutingContext ctx) {
        return ctx.get(ENTRY);
    }

    /** The client's id if it is a reasonable one (printable ASCII, at most 128 characters), else a new one. */
    static String requestId(String fromClient) {
        if (fromClient != null && !fromClient.isEmpty() && fromClient.length() <= 128
                && fromClient.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
            return fromClient;
        }
        byte[] random = new byte[12];
        ThreadLocalRandom.current().nextBytes(random);
        return "req_" + HexFormat.of().formatHex(random);
    }

    private void write(RoutingContext ctx, Entry entry) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        StringBuilder line = new StringBuilder(200);
        line.append("id=").append(entry.requestId)
                .append(" method=").append(ctx.request().method())
                .append(" route=").append(ctx.currentRoute() == null || ctx.currentRoute().getPath() == null
                        ? ctx.request().path() == null ? "-" : quoted(ctx.request().path()) : ctx.currentRoute().getPath())
                .append(" status=").append(ctx.response().getStatusCode());
        if (entry.model != null) {
            line.append(" model=").append(entry.model);
        }
        Usage usage = entry.usage == null ? null : entry.usage.get();
        if (usage != null) {
            line.append(" prompt_tokens=").append(usage.promptTokens()).append(" completion_tokens=").append(usage.completionTokens());
        }
        line.append(" latency_ms=").append((System.nanoTime() - entry.startNanos) / 1_000_000)
                .append(" client=").append(ctx.request().remoteAddress() == null ? "-" : ctx.request().remoteAddress().hostAddress());
        if (!ctx.response().ended()) {
            line.append(" disconnected=true"); // the connection closed before the response was complete
        }
        if (logPrompts) {
            if (entry.prompt != null) {
                line.append(" prompt=").append(quoted(entry.prompt));
            }
            if (usage != null && usage.completion() != null) {
                line.append(" completion=").append(quoted(usage.completion()));
            }
        }
        LOG.info(line.toString());
    }

    /** As a JSON string: one line, whatever the text holds. */
    private static String quoted(String s) {
        return ResponseShape.JSON.getNodeFactory().textNode(s).toString();
    }
}
