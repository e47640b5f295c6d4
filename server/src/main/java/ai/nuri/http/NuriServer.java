package ai.nuri.http;

import ai.nuri.metrics.NuriMetrics;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible HTTP server. Handlers never block the event loop: request parsing,
 * template rendering and tokenization run on Vert.x worker threads, generation on the engine
 * threads, and results come back through the request's context.
 */
public final class NuriServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NuriServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ServerConfig config;
    private final ModelRegistry models;
    private final NuriMetrics metrics;
    private final Vertx vertx;
    private final RateLimiter rateLimiter;
    private final AccessLog accessLog;
    private final ConnectionGuard connections;
    /** Limits on a request's head (Netty answers 414 and 431 beyond them). */
    static final int MAX_REQUEST_LINE = 8 * 1024;
    static final int MAX_HEADER_BYTES = 16 * 1024;
    private final ResponseStore responses;
    /** SHA-256 of each API key; replaced whole when the key file changes. */
    private volatile List<byte[]> keyDigests;
    private HttpServer server;
    private HttpServer managementServer;
    private volatile boolean ready;
    private volatile boolean draining;
    private final java.util.concurrent.atomic.AtomicInteger activeRequests = new java.util.concurrent.atomic.AtomicInteger();

    public NuriServer(ServerConfig config, ModelRegistry models, NuriMetrics metrics) {
        this.responses = new ResponseStore(config.responseStoreSize(), config.responseStoreTtl());
        this.config = config;
        this.models = models;
        this.metrics = metrics;
        this.rateLimiter = new RateLimiter(config.rateLimitPerMinute());
        this.accessLog = new AccessLog(config.logPrompts());
        this.keyDigests = config.apiKeys().stream().map(NuriServer::sha256).toList();
        this.vertx = Vertx.builder()
                .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
                        // The matched route (never the raw path: ids and typos would explode the
                        // series), the method and the status code; worker pools by type and name
                        // (without these two the pools' gauges collide).
                        .setLabels(java.util.EnumSet.of(io.vertx.micrometer.Label.HTTP_ROUTE,
                                io.vertx.micrometer.Label.HTTP_METHOD, io.vertx.micrometer.Label.HTTP_CODE,
                                io.vertx.micrometer.Label.POOL_TYPE, io.vertx.micrometer.Label.POOL_NAME))))
                .withMetrics(new MicrometerMetricsFactory(metrics.registry()))
                .build();
        this.connections = new ConnectionGuard(vertx, config.idleTimeout());
    }

    /**
     * Reads the API key file again whenever it changes (checked every two seconds, off the event
     * loop), so keys are added and revoked without a restart. A file that cannot be read keeps the
     * keys in force: a failed rotation never opens the API.
     */
    private void watchApiKeys() {
        vertx.setPeriodic(2000, id -> vertx.executeBlocking(() -> java.nio.file.Files.readString(config.apiKeysFile()), false)
                .onComplete(read -> {
                    if (read.failed()) {
                        LOG.warn("API key file {} unreadable ({}); the keys in force stay", config.apiKeysFile(),
                                read.cause().toString());
                    } else if (differsFromKeysInForce(read.result())) {
                        List<String> keys = ApiKeys.parse(read.result());
                        if (keys.isEmpty()) {
                            LOG.warn("API key file {} now holds no key; the keys in force stay", config.apiKeysFile());
                            return;
                        }
                        keyDigests = keys.stream().map(NuriServer::sha256).toList();
                        LOG.info("API keys reloaded from {}: {} keys", config.apiKeysFile(), keys.size());
                    }
                }));
    }

    private boolean differsFromKeysInForce(String content) {
        List<byte[]> fromFile = ApiKeys.parse(content).stream().map(NuriServer::sha256).toList();
        if (fromFile.size() != keyDigests.size()) {
            return true;
        }
        for (int i = 0; i < fromFile.size(); i++) {
            if (!MessageDigest.isEqual(fromFile.get(i), keyDigests.get(i))) {
                return true;
            }
        }
        return false;
    }

    /** Starts listening; completes with the bound port (useful with port 0). */
    public Future<Integer> start() {
        Future<Void> management = Future.succeededFuture();
        if (config.separateManagementPort()) {
            Router router = Router.router(vertx);
            managementRoutes(router);
            notFoundAsOpenAiError(router);
            management = vertx.createHttpServer().requestHandler(router)
                    .listen(config.managementPort(), config.host()).map(s -> {
                        managementServer = s;
                        LOG.info("management endpoints on {}:{}", config.host(), s.actualPort());
                        return null;
                    });
        }
        HttpServerOptions options = new HttpServerOptions()
                .setMaxInitialLineLength(MAX_REQUEST_LINE) // longer: 414
                .setMaxHeaderSize(MAX_HEADER_BYTES)        // larger: 431
                // No h2c upgrade: with it, a connection exists for the server only once its first bytes
                // arrive, and one that sends nothing would never time out.
                .setHttp2ClearTextEnabled(false);
        if (config.tls()) {
            options.setSsl(true).setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions()
                    .setCertPath(config.tlsCertFile().toString()).setKeyPath(config.tlsKeyFile().toString()));
        }
        if (config.apiKeysFile() != null) {
            watchApiKeys();
        }
        return management.compose(v -> vertx.createHttpServer(options).requestHandler(router())
                .connectionHandler(connections::connected)
                .listen(config.port(), config.host())).map(s -> {
            server = s;
            ready = true;
            LOG.info("listening on {}:{}", config.host(), s.actualPort());
            return s.actualPort();
        });
    }

    /** The management port, once started with one; -1 when /health, /ready and /metrics share the main port. */
    public int managementPort() {
        return managementServer == null ? -1 : managementServer.actualPort();
    }

    private void managementRoutes(Router router) {
        router.get("/health").handler(this::health);
        router.get("/ready").handler(this::ready);
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape()));
    }

    private void notFoundAsOpenAiError(Router router) {
        router.errorHandler(404, ctx -> send(ctx, new ApiException(404, "invalid_request_error",
                "Not found: " + ctx.request().method() + " " + ctx.request().path(), null, "not_found", null)));
    }

    private Router router() {
        Router router = Router.router(vertx);
        router.route().handler(accessLog::handle);
        router.route().handler(connections::headReceived);
        if (!config.corsOrigins().isEmpty()) {
            CorsHandler cors = CorsHandler.create().addOrigins(config.corsOrigins())
                    .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE, HttpMethod.OPTIONS))
                    .allowedHeaders(Set.of("Authorization", "Content-Type"));
            // Browsers send Origin on same-origin POSTs and module scripts too: the page Nuri serves
            // itself must not need to be listed.
            router.route().handler(ctx -> {
                String origin = ctx.request().getHeader("Origin");
                String self = ctx.request().scheme() + "://" + ctx.request().getHeader("Host");
                if (origin == null || origin.equalsIgnoreCase(self)) {
                    ctx.next();
                } else {
                    cors.handle(ctx);
                }
            });
        }
        if (!config.separateManagementPort()) {
            managementRoutes(router);
        }
        // Not route("/v1/*"): a route with a path would show up in every /v1 request's route label
        // ("/v1/>/v1/models"). Keys and rate limits cover the API: /v1 and vLLM's /tokenize, /detokenize
        // (which run the tokenizer and chat template on the client's input); not the page or probes.
        router.route().handler(ctx -> {
            String path = ctx.request().path();
            if (path.startsWith("/v1/") || path.equals("/tokenize") || path.equals("/detokenize")) {
                authorize(ctx);
            } else {
                ctx.next();
            }
        });
        router.route().handler(BodyHandler.create(false).setBodyLimit(config.bodyLimitBytes()));
        router.route().handler(connections::bodyReceived);
        router.post("/v1/chat/completions").handler(ctx -> generate(ctx, RequestParser::chat, ResponseShape.CHAT));
        router.post("/v1/completions").handler(ctx -> generate(ctx, RequestParser::completion, ResponseShape.TEXT));
        router.post("/v1/responses").handler(this::createResponse);
        router.get("/v1/responses/:id").handler(this::storedResponse);
        router.delete("/v1/responses/:id").handler(this::deleteResponse);
        router.get("/v1/models").handler(this::listModels);
        router.get("/v1/models/:id").handler(this::oneModel);
        router.post("/tokenize").handler(ctx -> blocking(ctx, body -> Tokenize.tokenize(body, models)));
        router.post("/detokenize").handler(ctx -> blocking(ctx, body -> Tokenize.detokenize(body, models)));
        // The web chat page: static files from the jar, no CDN (index.html at /).
        router.getWithRegex("^/(?!v1/)[^/]*$").handler(StaticHandler.create("web").setCachingEnabled(false));
        notFoundAsOpenAiError(router);
        router.errorHandler(405, ctx -> send(ctx, new ApiException(405, "invalid_request_error",
                "Method not allowed: " + ctx.request().method() + " " + ctx.request().path(), null, "method_not_allowed", null)));
        router.errorHandler(413, ctx -> send(ctx, new ApiException(413, "invalid_request_error",
                "Request body larger than " + config.bodyLimitBytes() + " bytes", null, "request_too_large", null)));
        router.errorHandler(500, ctx -> {
            Throwable failure = ctx.failure();
            if (failure instanceof ApiException e) {
                send(ctx, e);
            } else {
                LOG.error("request failed", failure);
                send(ctx, new ApiException(500, "server_error", "internal error", null, "internal_error", null));
            }
        });
        return router;
    }

    private void health(RoutingContext ctx) {
        boolean alive = models.all().stream().allMatch(m -> m.engine().isAlive());
        ctx.response().setStatusCode(alive ? 200 : 503).putHeader("Content-Type", "application/json")
                .end(alive ? "{\"status\":\"ok\"}" : "{\"status\":\"engine stopped\"}");
    }

    private void ready(RoutingContext ctx) {
        boolean ok = ready && !draining;
        ctx.response().setStatusCode(ok ? 200 : 503).putHeader("Content-Type", "application/json")
                .end(ok ? "{\"status\":\"ready\"}" : draining ? "{\"status\":\"draining\"}" : "{\"status\":\"starting\"}");
    }

    private void authorize(RoutingContext ctx) {
        String client = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
        if (!keyDigests.isEmpty()) {
            String header = ctx.request().getHeader("Authorization");
            String key = header != null && header.startsWith("Bearer ") ? header.substring(7).trim() : "";
            byte[] digest = sha256(key);
            boolean ok = false;
            for (byte[] d : keyDigests) {
                ok |= MessageDigest.isEqual(d, digest); // no early exit: time does not depend on which key matched
            }
            if (!ok) {
                send(ctx, new ApiException(401, "invalid_request_error", "Invalid or missing API key", null,
                        "invalid_api_key", null));
                return;
            }
            client = "key:" + java.util.HexFormat.of().formatHex(digest, 0, 8);
        }
        if (rateLimiter.enabled()) {
            int wait = rateLimiter.acquire(client, System.nanoTime());
            if (wait > 0) {
                metrics.rateLimited();
                send(ctx, new ApiException(429, "rate_limit_exceeded", "Rate limit of " + config.rateLimitPerMinute()
                        + " requests per minute reached", null, "rate_limit_exceeded", wait));
                return;
            }
        }
        ctx.next();
    }

    private void generate(RoutingContext ctx, BiFunction<JsonNode, ModelRegistry, GenerationRequest> parser,
            ResponseShape shape) {
        acceptGeneration(ctx, body -> parser.apply(body, models), (request, context) ->
                new CompletionResponder(request, shape, ctx.response(), context, config.requestTimeout(),
                        AccessLog.entry(ctx), config.idleTimeout()).start());
    }

    /** POST /v1/responses: read off the event loop as chat is, then answered by a ResponsesResponder. */
    private void createResponse(RoutingContext ctx) {
        acceptGeneration(ctx, body -> ResponsesRequest.parse(body, models, responses), (request, context) ->
                new ResponsesResponder(request, responses, ctx.response(), context, config.requestTimeout(),
                        AccessLog.entry(ctx), config.idleTimeout()).start());
    }

    /**
     * What every generating route does: refuse while draining, count the request until its response
     * ends, parse it on a worker (bodies may be megabytes of base64 images: JSON parsing, image decoding
     * and preprocessing stay off the event loop, which keeps streaming other requests' tokens), then
     * start the responder back on the request's context.
     */
    private <T> void acceptGeneration(RoutingContext ctx, java.util.function.Function<JsonNode, T> parse,
            java.util.function.BiConsumer<T, Context> respond) {
        if (draining) {
            send(ctx, ApiException.draining());
            return;
        }
        // Counted from arrival to the end of the response, so draining also waits for requests
        // still being parsed and tokenized, before the engine has seen them.
        activeRequests.incrementAndGet();
        ctx.addEndHandler(done -> activeRequests.decrementAndGet());
        Context context = Vertx.currentContext();
        io.vertx.core.buffer.Buffer raw = ctx.body() == null ? null : ctx.body().buffer();
        AccessLog.Entry access = AccessLog.entry(ctx);
        vertx.executeBlocking(() -> {
            JsonNode body = parseJson(raw);
            if (accessLog.logPrompts() && body != null) {
                for (String field : List.of("messages", "prompt", "input")) {
                    if (body.has(field)) {
                        access.prompt = body.get(field).toString();
                    }
                }
            }
            return parse.apply(body);
        }, false).onComplete(result -> {
            if (result.failed()) {
                fail(ctx, result.cause());
                return;
            }
            if (ctx.response().closed()) {
                return; // the client left while its request was read: it never reaches the engine
            }
            try {
                respond.accept(result.result(), context);
            } catch (RuntimeException e) {
                fail(ctx, e);
            }
        });
    }

    private void storedResponse(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        responses.get(id).ifPresentOrElse(
                e -> ctx.response().putHeader("Content-Type", "application/json").end(e.response().toString()),
                () -> send(ctx, responseNotFound(id)));
    }

    private void deleteResponse(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        if (!responses.delete(id)) {
            send(ctx, responseNotFound(id));
            return;
        }
        ObjectNode deleted = JSON.createObjectNode().put("id", id).put("object", "response").put("deleted", true);
        ctx.response().putHeader("Content-Type", "application/json").end(deleted.toString());
    }

    private static ApiException responseNotFound(String id) {
        return new ApiException(404, "invalid_request_error", "Response with id '" + id
                + "' not found (never stored, deleted, or expired).", "response_id", "response_not_found", null);
    }

    private void blocking(RoutingContext ctx, java.util.function.Function<JsonNode, JsonNode> work) {
        JsonNode body = jsonBodyOrAnswer(ctx);
        if (body == null) {
            return;
        }
        vertx.executeBlocking(() -> work.apply(body), false).onComplete(r -> {
            if (r.failed()) {
                fail(ctx, r.cause());
            } else {
                ctx.response().putHeader("Content-Type", "application/json").end(r.result().toString());
            }
        });
    }

    private void listModels(RoutingContext ctx) {
        ObjectNode root = JSON.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (ServedModel m : models.all()) {
            modelEntry(data.addObject(), m);
        }
        ctx.response().putHeader("Content-Type", "application/json").end(root.toString());
    }

    /** GET /v1/models/{id}: one model, or 404 model_not_found. */
    private void oneModel(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        ServedModel m = models.all().stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
        if (m == null) {
            send(ctx, ApiException.modelNotFound(id));
            return;
        }
        ctx.response().putHeader("Content-Type", "application/json").end(modelEntry(JSON.createObjectNode(), m).toString());
    }

    private static ObjectNode modelEntry(ObjectNode o, ServedModel m) {
        o.put("id", m.id());
        o.put("object", "model");
        o.put("created", m.created());
        o.put("owned_by", "nuri");
        o.put("max_model_len", m.maxModelLen());
        ArrayNode modalities = o.putArray("input_modalities").add("text");
        if (m.acceptsImages()) {
            modalities.add("image");
        }
        // vLLM-style extras: what serves it, and whether prompt prefixes are shared (never for hybrid models).
        o.put("architecture", m.engine().model().config().architecture());
        o.put("prefix_caching", m.engine().prefixCaching());
        if (m.description() != null) {
            o.put("description", m.description()); // the model card's first paragraph, for the chat page
        }
        return o;
    }

    /** The request's JSON body, or null after answering 400 when it is not JSON. */
    private static JsonNode jsonBodyOrAnswer(RoutingContext ctx) {
        try {
            return parseJson(ctx);
        } catch (ApiException e) {
            send(ctx, e);
            return null;
        }
    }

    private static JsonNode parseJson(RoutingContext ctx) {
        return parseJson(ctx.body() == null ? null : ctx.body().buffer());
    }

    static JsonNode parseJson(io.vertx.core.buffer.Buffer raw) {
        return parseJson(raw == null ? null : raw.getBytes());
    }

    /** A request body as JSON; 400 if it is empty, not UTF-8 (refused, not patched with U+FFFD) or not JSON. */
    static JsonNode parseJson(byte[] raw) {
        String text;
        try {
            text = raw == null ? null : StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(raw)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw ApiException.badRequest("the request body is not valid UTF-8", null);
        }
        if (text == null || text.isBlank()) {
            throw ApiException.badRequest("the request body is empty; it must be JSON", null);
        }
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("the request body is not valid JSON: " + e.getOriginalMessage(), null);
        }
    }

    private void fail(RoutingContext ctx, Throwable t) {
        if (t instanceof ApiException e) {
            send(ctx, e);
        } else if (t instanceof IllegalArgumentException e) {
            send(ctx, ApiException.badRequest(e.getMessage(), null));
        } else {
            LOG.error("request failed", t);
            send(ctx, new ApiException(500, "server_error", "internal error", null, "internal_error", null));
        }
    }

    static void send(RoutingContext ctx, ApiException e) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        if (e.retryAfterSeconds() != null) {
            ctx.response().putHeader("Retry-After", String.valueOf(e.retryAfterSeconds()));
        }
        ctx.response().setStatusCode(e.status()).putHeader("Content-Type", "application/json").end(e.toJson());
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean isDraining() {
        return draining;
    }

    /**
     * Graceful shutdown: readiness turns 503 and new requests are refused, requests in flight run
     * to the end (up to the drain timeout); those still running then end with a 503, on a stream an
     * error event and {@code [DONE]}; then the listeners close. Blocks the calling thread.
     */
    public void drain() {
        draining = true;
        models.all().forEach(m -> m.engine().startDraining());
        if (!awaitQuiet(config.drainTimeout())) {
            LOG.info("drain time over: ending {} requests still in flight", activeRequests.get());
            models.all().forEach(m -> m.engine().abortInFlight(ai.nuri.engine.Engine.SHUTDOWN));
            awaitQuiet(java.time.Duration.ofSeconds(5)); // their error events are written before the listeners close
        }
        if (server != null) {
            server.close().await();
        }
        if (managementServer != null) {
            managementServer.close().await();
        }
    }

    /** Waits until no request is in flight and every engine is idle; false if {@code limit} passed first. */
    private boolean awaitQuiet(java.time.Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (activeRequests.get() > 0 || !models.all().stream().allMatch(m -> m.engine().isIdle())) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
