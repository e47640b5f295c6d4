package ai.nuri.http;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineRejectedException;
import ai.nuri.engine.EngineRequest;
import ai.nuri.engine.FinishReason;
import ai.nuri.engine.SamplingParams;
import ai.nuri.engine.SequenceListener;
import ai.nuri.engine.TokenLogprob;
import ai.nuri.text.ToolCall;
import ai.nuri.text.ToolCallFormat;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Runs a request's n sequences on the engine and answers: one JSON body when all are done, or a
 * Server-Sent Events stream of chunks as text arrives. Engine callbacks are moved onto the
 * request's Vert.x context, so all writes happen on its event loop, in order. A client that goes
 * away cancels its sequences.
 */
final class CompletionResponder {
    private final GenerationRequest request;
    private final ResponseShape shape;
    private final HttpServerResponse response;
    private final Context context;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final Choice[] choices;
    private final List<Engine.Handle> handles = new ArrayList<>();
    /** On streams: drops a client that stops reading (null otherwise). */
    private final SlowReaderGuard slowReader;
    private int unfinished;
    private boolean done;

    /** One choice's accumulated output. */
    private static final class Choice {
        final StringBuilder text = new StringBuilder();
        final List<Integer> tokens = new ArrayList<>();
        final List<TokenLogprob> logprobs = new ArrayList<>();
        /** How much of {@code text} has been streamed as content (with tool parsing, text that may be a call waits). */
        int streamed;
        FinishReason finish;
        /** The finished answer read for tool calls; null without tool parsing. */
        ToolCallFormat.Parsed parsed;

        String finishName() {
            return parsed != null && !parsed.calls().isEmpty() ? "tool_calls" : finish.apiName();
        }
    }

    private final java.time.Duration timeout;

    CompletionResponder(GenerationRequest request, ResponseShape shape, HttpServerResponse response, Context context,
            java.time.Duration timeout, AccessLog.Entry access, java.time.Duration slowReaderPatience) {
        this.timeout = timeout;
        this.slowReader = request.stream() ? new SlowReaderGuard(response, context, slowReaderPatience, () -> {
            done = true;
            handles.forEach(h -> h.cancel(Engine.SLOW_READER));
        }) : null;
        this.request = request;
        access.model = request.model().id();
        access.usage = this::accessUsage;
        this.shape = shape;
        this.response = response;
        this.context = context;
        this.id = shape.idPrefix + UUID.randomUUID().toString().replace("-", "");
        this.choices = new Choice[request.n()];
        this.unfinished = request.n();
    }

    /** Submits the sequences; throws ApiException (503) if the engine turns them away. */
    void start() {
        Engine engine = request.model().engine();
        try {
            for (int i = 0; i < request.n(); i++) {
                choices[i] = new Choice();
                SamplingParams p = request.sampling();
                if (p.seed() != null && i > 0) {
                    p = p.withSeed(p.seed() + i);
                }
                handles.add(engine.submit(new EngineRequest(id + "-" + i, request.prompt(), p, request.logprobs(),
                        listener(i), request.images(), request.constraint())));
            }
        } catch (EngineRejectedException e) {
            cancelAll();
            done = true;
            throw ApiException.rejected(e);
        }
        response.closeHandler(v -> {
            if (!done) {
                done = true;
                cancelAll();
            }
        });
        if (!timeout.isZero()) {
            context.owner().setTimer(timeout.toMillis(), id -> context.runOnContext(v -> timedOut()));
        }
        if (request.stream()) {
            openEventStream(response);
            for (int i = 0; i < request.n(); i++) {
                if (shape == ResponseShape.CHAT) {
                    writeChunk(i, "", true, null, null, List.of());
                }
            }
        }
    }

    /** Server-Sent Events headers, unbuffered by proxies: what every streamed answer starts with. */
    static void openEventStream(HttpServerResponse response) {
        response.setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no");
    }

    private SequenceListener listener(int index) {
        return new SequenceListener() {
            @Override
            public void onDelta(String text, int[] tokens, List<TokenLogprob> logprobs) {
                context.runOnContext(v -> delta(index, text, tokens, logprobs));
            }

            @Override
            public void onFinish(FinishReason reason, int promptTokens, int completionTokens) {
                context.runOnContext(v -> finish(index, reason));
            }

            @Override
            public void onAbort(String reason) {
                context.runOnContext(v -> abort(reason));
            }
        };
    }

    private void delta(int index, String text, int[] tokens, List<TokenLogprob> logprobs) {
        if (done) {
            return;
        }
        Choice c = choices[index];
        int offset = c.text.length();
        int firstNew = c.tokens.size();
        c.text.append(text);
        for (int t : tokens) {
            c.tokens.add(t);
        }
        c.logprobs.addAll(logprobs);
        if (!request.stream()) {
            return;
        }
        String visible = text;
        if (request.toolFormat() != null) { // text that could begin a tool call is held back until it is known
            int end = Math.max(c.streamed, request.toolFormat().contentEnd(c.text.toString()));
            visible = c.text.substring(c.streamed, end);
            offset = c.streamed;
            c.streamed = end;
        }
        if (!visible.isEmpty() || !logprobs.isEmpty()) {
            writeChunk(index, visible, false, null, request.logprobs() >= 0 ? logprobs : null,
                    c.tokens.subList(firstNew, c.tokens.size()), offset);
        }
    }

    /** Reads a finished choice for tool calls; streaming, sends what was held back: the rest as content, or the calls. */
    private void readToolCalls(int index) {
        Choice c = choices[index];
        c.parsed = request.toolFormat().parse(c.text.toString());
        if (!request.stream()) {
            return;
        }
        if (c.parsed.calls().isEmpty()) {
            if (c.streamed < c.text.length()) {
                writeChunk(index, c.text.substring(c.streamed), false, null, null, List.of(), c.streamed);
            }
            return;
        }
        for (int j = 0; j < c.parsed.calls().size(); j++) { // as OpenAI streams them: id and name, then the arguments
            ToolCall call = c.parsed.calls().get(j);
            ObjectNode head = ResponseShape.JSON.createObjectNode().put("index", j).put("id", call.id()).put("type", "function");
            head.putObject("function").put("name", call.name()).put("arguments", "");
            writeToolCallChunk(index, head);
            ObjectNode args = ResponseShape.JSON.createObjectNode().put("index", j);
            args.putObject("function").put("arguments", call.arguments());
            writeToolCallChunk(index, args);
        }
    }

    private void writeToolCallChunk(int index, ObjectNode call) {
        ObjectNode chunk = envelope(shape.chunkObject);
        ObjectNode choice = chunk.putArray("choices").addObject();
        choice.put("index", index);
        choice.putObject("delta").putArray("tool_calls").add(call);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        write("data: " + chunk + "\n\n");
    }

    /** One SSE event of a stream, under the slow-reader guard. */
    private void write(String event) {
        response.write(event);
        slowReader.afterWrite();
    }

    private void finish(int index, FinishReason reason) {
        if (done) {
            return;
        }
        choices[index].finish = reason;
        if (request.toolFormat() != null) {
            readToolCalls(index);
        }
        if (request.stream()) {
            writeChunk(index, "", false, choices[index].finishName(), null, List.of());
        }
        if (--unfinished == 0) {
            done = true;
            if (request.stream()) {
                if (request.includeUsage()) {
                    ObjectNode chunk = envelope(shape.chunkObject);
                    chunk.putArray("choices");
                    chunk.set("usage", usage());
                    write("data: " + chunk + "\n\n");
                }
                response.end("data: [DONE]\n\n");
            } else {
                response.putHeader("Content-Type", "application/json").end(completeBody());
            }
        }
    }

    private void abort(String reason) {
        if (done) {
            return;
        }
        endWithError(reason.equals(ai.nuri.engine.Engine.SHUTDOWN) ? ApiException.draining()
                : new ApiException(500, "server_error", "generation failed: " + reason, null, "internal_error", null));
    }

    /** The request ran past --request-timeout: its sequences are cancelled and the client told. */
    private void timedOut() {
        if (done) {
            return;
        }
        endWithError(new ApiException(504, "timeout", "The request did not finish within " + timeout.toMillis() + " ms",
                null, "request_timeout", null));
    }

    /** Stops every sequence and tells the client: an error event on a stream, else an error status. */
    private void endWithError(ApiException e) {
        done = true;
        cancelAll();
        if (request.stream()) {
            response.end("data: " + e.toJson() + "\n\ndata: [DONE]\n\n");
        } else {
            response.setStatusCode(e.status()).putHeader("Content-Type", "application/json").end(e.toJson());
        }
    }

    private void cancelAll() {
        handles.forEach(Engine.Handle::cancel);
    }

    private ObjectNode envelope(String object) {
        ObjectNode root = ResponseShape.JSON.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", request.model().id());
        return root;
    }

    private void writeChunk(int index, String text, boolean first, String finish, List<TokenLogprob> logprobs,
            List<Integer> tokenIds) {
        writeChunk(index, text, first, finish, logprobs, tokenIds, 0);
    }

    private void writeChunk(int index, String text, boolean first, String finish, List<TokenLogprob> logprobs,
            List<Integer> tokenIds, int textOffset) {
        ObjectNode chunk = envelope(shape.chunkObject);
        if (first && index == 0 && request.returnTokenIds()) {
            putPromptTokenIds(chunk);
        }
        ObjectNode choice = chunk.putArray("choices").addObject();
        choice.put("index", index);
        if (finish != null && shape == ResponseShape.CHAT) {
            choice.putObject("delta");
        } else {
            shape.fillDelta(choice, text, first);
        }
        ObjectNode lp = shape.logprobs(logprobs, request.model().tokenizer(), textOffset);
        if (lp == null) {
            choice.putNull("logprobs");
        } else {
            choice.set("logprobs", lp);
        }
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        if (request.returnTokenIds() && !tokenIds.isEmpty()) {
            ArrayNode ids = choice.putArray("token_ids");
            tokenIds.forEach(ids::add);
        }
        write("data: " + chunk + "\n\n");
    }

    /** vLLM's {@code prompt_token_ids}: the prompt as the engine saw it, image tokens expanded. */
    private void putPromptTokenIds(ObjectNode root) {
        ArrayNode ids = root.putArray("prompt_token_ids");
        for (int t : request.prompt()) {
            ids.add(t);
        }
    }

    private String completeBody() {
        ObjectNode root = envelope(shape.object);
        if (request.returnTokenIds()) {
            putPromptTokenIds(root);
        }
        ArrayNode array = root.putArray("choices");
        for (int i = 0; i < choices.length; i++) {
            Choice c = choices[i];
            ObjectNode choice = array.addObject();
            choice.put("index", i);
            if (c.parsed != null && !c.parsed.calls().isEmpty()) {
                ResponseShape.fillToolCalls(choice, c.parsed);
            } else {
                shape.fillChoice(choice, c.text.toString());
            }
            ObjectNode lp = shape.logprobs(request.logprobs() >= 0 ? c.logprobs : null, request.model().tokenizer(), 0);
            if (lp == null) {
                choice.putNull("logprobs");
            } else {
                choice.set("logprobs", lp);
            }
            choice.put("finish_reason", c.finishName());
            if (request.returnTokenIds()) {
                ArrayNode ids = choice.putArray("token_ids");
                c.tokens.forEach(ids::add);
            }
        }
        root.set("usage", usage());
        return root.toString();
    }

    /** For the access log, read when the response ends (on this request's context). */
    private AccessLog.Usage accessUsage() {
        int completion = 0;
        StringBuilder text = new StringBuilder();
        for (Choice c : choices) {
            if (c != null) {
                completion += c.tokens.size();
                text.append(text.isEmpty() ? "" : "\n").append(c.text);
            }
        }
        return new AccessLog.Usage(request.prompt().length, completion, text.toString());
    }

    private ObjectNode usage() {
        int completion = 0;
        for (Choice c : choices) {
            completion += c.tokens.size(); // one token arrives with each delta, the stop token included
        }
        ObjectNode u = ResponseShape.JSON.createObjectNode();
        u.put("prompt_tokens", request.prompt().length);
        u.put("completion_tokens", completion);
        u.put("total_tokens", request.prompt().length + completion);
        return u;
    }
}
