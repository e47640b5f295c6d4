package ai.nuri.http;

import ai.nuri.engine.Engine;
import ai.nuri.engine.EngineRejectedException;
import ai.nuri.engine.EngineRequest;
import ai.nuri.engine.FinishReason;
import ai.nuri.engine.SequenceListener;
import ai.nuri.engine.TokenLogprob;
import ai.nuri.text.ToolCall;
import ai.nuri.text.ToolCallFormat;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * Runs a Responses API request on the engine and answers with a response object, or streams it
 * as OpenAI's named events (response.created ... response.completed), each with a
 * {@code sequence_number}. Engine callbacks are moved onto the request's Vert.x context; a client
 * that goes away cancels the sequence. A finished response is stored when {@code store} is on.
 */
final class ResponsesResponder {
    private final ResponsesRequest request;
    private final ResponseStore store;
    private final HttpServerResponse response;
    private final Context context;
    private final Duration timeout;
    private final String id = "resp_" + hex();
    private final String messageId = "msg_" + hex();
    private final long createdAt = System.currentTimeMillis() / 1000;
    private final StringBuilder text = new StringBuilder();
    private int generated;
    private int streamed; // chars of text sent as deltas
    private boolean messageOpen;
    private int sequence;
    private boolean done;
    private Engine.Handle handle;
    /** Drops a streaming client that stops reading (idle for non-streamed requests: one write at the end). */
    private final SlowReaderGuard slowReader;

    ResponsesResponder(ResponsesRequest request, ResponseStore store, HttpServerResponse response, Context context,
            Duration timeout, AccessLog.Entry access, Duration slowReaderPatience) {
        this.slowReader = new SlowReaderGuard(response, context, slowReaderPatience, () -> {
            done = true;
            if (handle != null) {
                handle.cancel(ai.nuri.engine.Engine.SLOW_READER);
            }
        });
        this.request = request;
        this.store = store;
        access.model = request.generation().model().id();
        access.usage = () -> new AccessLog.Usage(request.generation().prompt().length, generated, text.toString());
        this.response = response;
        this.context = context;
        this.timeout = timeout;
    }

    private static String hex() {
        return UUID.randomUUID().toString().replace("-", "");
    }

    /** Submits the sequence; throws ApiException (503) if the engine turns it away. */
    void start() {
        GenerationRequest g = request.generation();
        try {
            handle = g.model().engine().submit(new EngineRequest(id, g.prompt(), g.sampling(), -1, listener(), g.images(),
                    g.constraint()));
        } catch (EngineRejectedException e) {
            done = true;
            throw ApiException.rejected(e);
        }
        response.closeHandler(v -> {
            if (!done) {
                done = true;
                handle.cancel();
            }
        });
        if (!timeout.isZero()) {
            context.owner().setTimer(timeout.toMillis(), t -> context.runOnContext(v -> failed(504, "request_timeout",
                    "The request did not finish within " + timeout.toMillis() + " ms")));
        }
        if (request.stream()) {
            CompletionResponder.openEventStream(response);
            ObjectNode r = responseObject("in_progress", List.of(), null);
            event("response.created", body -> body.set("response", r));
            event("response.in_progress", body -> body.set("response", r));
        }
    }

    private SequenceListener listener() {
        return new SequenceListener() {
            @Override
            public void onDelta(String delta, int[] tokens, List<TokenLogprob> logprobs) {
                context.runOnContext(v -> delta(delta, tokens.length));
            }

            @Override
            public void onFinish(FinishReason reason, int promptTokens, int completionTokens) {
                context.runOnContext(v -> finish(reason));
            }

            @Override
            public void onAbort(String reason) {
                context.runOnContext(v -> {
                    if (reason.equals(ai.nuri.engine.Engine.SHUTDOWN)) {
                        ApiException draining = ApiException.draining(); // as chat completions answers it
                        failed(draining.status(), draining.code(), draining.getMessage());
                    } else {
                        failed(500, "server_error", "generation failed: " + reason);
                    }
                });
            }
        };
    }

    private void delta(String delta, int tokens) {
        if (done) {
            return;
        }
        generated += tokens;
        text.append(delta);
        if (!request.stream()) {
            return;
        }
        ToolCallFormat format = request.generation().toolFormat();
        int end = format == null ? text.length() : Math.max(streamed, format.contentEnd(text.toString()));
        sendText(end);
    }

    /** Sends text up to {@code end} as output_text deltas, opening the message item first. */
    private void sendText(int end) {
        if (end <= streamed) {
            return;
        }
        if (!messageOpen) {
            openMessage();
        }
        String piece = text.substring(streamed, end);
        streamed = end;
        event("response.output_text.delta", b -> b.put("item_id", messageId).put("output_index", 0).put("content_index", 0)
                .put("delta", piece));
    }

    private void finish(FinishReason reason) {
        if (done) {
            return;
        }
        done = true;
        ToolCallFormat format = request.generation().toolFormat();
        ToolCallFormat.Parsed parsed = format == null ? new ToolCallFormat.Parsed(text.toString(), List.of())
                : format.parse(text.toString());
        boolean incomplete = reason == FinishReason.LENGTH;
        String itemStatus = incomplete ? "incomplete" : "completed";
        // Streamed, the final object says what the events said: text already sent stays the message, as sent.
        String content = parsed.calls().isEmpty() ? text.toString()
                : messageOpen ? text.substring(0, streamed) : parsed.content() == null ? "" : parsed.content();
        ArrayNode output = ResponseShape.JSON.createArrayNode();
        if (!content.isEmpty() || parsed.calls().isEmpty() || messageOpen) {
            output.add(messageItem(content, itemStatus));
        }
        for (ToolCall call : parsed.calls()) {
            output.add(functionCallItem(call, "completed"));
        }
        ObjectNode finished = responseObject(incomplete ? "incomplete" : "completed", output, null);
        if (request.store()) {
            ArrayNode conversation = request.conversation().deepCopy();
            ObjectNode answer = conversation.addObject().put("role", "assistant");
            if (parsed.calls().isEmpty()) {
                answer.put("content", text.toString());
            } else {
                if (parsed.content() == null) {
                    answer.putNull("content");
                } else {
                    answer.put("content", parsed.content());
                }
                ArrayNode calls = answer.putArray("tool_calls");
                for (ToolCall call : parsed.calls()) {
                    calls.addObject().put("id", call.id()).put("type", "function").putObject("function")
                            .put("name", call.name()).put("arguments", call.arguments());
                }
            }
            store.put(id, finished, conversation);
        }
        if (!request.stream()) {
            response.putHeader("Content-Type", "application/json").end(finished.toString());
            return;
        }
        if (parsed.calls().isEmpty()) {
            sendText(text.length());
        }
        if (messageOpen || parsed.calls().isEmpty()) {
            if (!messageOpen) {
                openMessage(); // an empty answer still has its message item, opened and closed
            }
            String full = parsed.calls().isEmpty() ? text.toString() : text.substring(0, streamed);
            event("response.output_text.done", b -> b.put("item_id", messageId).put("output_index", 0)
                    .put("content_index", 0).put("text", full));
            event("response.content_part.done", b -> b.put("item_id", messageId).put("output_index", 0)
                    .put("content_index", 0).set("part", outputText(full)));
            event("response.output_item.done", b -> b.put("output_index", 0).set("item", messageItem(full, itemStatus)));
        }
        int index = messageOpen ? 1 : 0;
        for (ToolCall call : parsed.calls()) {
            int at = index++;
            ObjectNode item = functionCallItem(call, "in_progress").put("arguments", "");
            String itemId = item.get("id").asText();
            event("response.output_item.added", b -> b.put("output_index", at).set("item", item));
            event("response.function_call_arguments.delta", b -> b.put("item_id", itemId).put("output_index", at)
                    .put("delta", call.arguments()));
            event("response.function_call_arguments.done", b -> b.put("item_id", itemId).put("output_index", at)
                    .put("arguments", call.arguments()));
            ObjectNode doneItem = functionCallItem(call, "completed").put("id", itemId);
            event("response.output_item.done", b -> b.put("output_index", at).set("item", doneItem));
        }
        event(incomplete ? "response.incomplete" : "response.completed", b -> b.set("response", finished));
        response.end();
    }

    /** The message item and its output_text part begin (before the first delta, or for an empty answer). */
    private void openMessage() {
        messageOpen = true;
        event("response.output_item.added", b -> b.put("output_index", 0).set("item", messageItem("", "in_progress")));
        event("response.content_part.added", b -> b.put("item_id", messageId).put("output_index", 0)
                .put("content_index", 0).set("part", outputText("")));
    }

    private void failed(int status, String code, String message) {
        if (done) {
            return;
        }
        done = true;
        handle.cancel();
        ApiException e = new ApiException(status, status == 504 ? "timeout" : "server_error", message, null, code, null);
        if (!request.stream()) {
            response.setStatusCode(status).putHeader("Content-Type", "application/json").end(e.toJson());
            return;
        }
        ObjectNode error = ResponseShape.JSON.createObjectNode().put("code", code).put("message", message);
        ObjectNode r = responseObject("failed", List.of(), error);
        event("response.failed", b -> b.set("response", r));
        response.end();
    }

    private ObjectNode responseObject(String status, List<ObjectNode> output, ObjectNode error) {
        ArrayNode items = ResponseShape.JSON.createArrayNode();
        output.forEach(items::add);
        return responseObject(status, items, error);
    }

    private ObjectNode responseObject(String status, ArrayNode output, ObjectNode error) {
        ObjectNode r = ResponseShape.JSON.createObjectNode();
        r.put("id", id);
        r.put("object", "response");
        r.put("created_at", createdAt);
        r.put("status", status);
        r.put("model", request.generation().model().id());
        if (error == null) {
            r.putNull("error");
        } else {
            r.set("error", error);
        }
        if (status.equals("incomplete")) {
            r.putObject("incomplete_details").put("reason", "max_output_tokens");
        } else {
            r.putNull("incomplete_details");
        }
        r.setAll(request.echo());
        r.set("output", output);
        StringBuilder outputText = new StringBuilder();
        for (var item : output) {
            for (var part : item.path("content")) {
                outputText.append(part.path("text").asText(""));
            }
        }
        r.put("output_text", outputText.toString()); // the SDKs' convenience, filled in as they would
        if (!status.equals("in_progress") && !status.equals("failed")) {
            int input = request.generation().prompt().length;
            ObjectNode usage = r.putObject("usage");
            usage.put("input_tokens", input);
            usage.putObject("input_tokens_details").put("cached_tokens", 0);
            usage.put("output_tokens", generated);
            usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
            usage.put("total_tokens", input + generated);
        } else {
            r.putNull("usage");
        }
        return r;
    }

    private ObjectNode messageItem(String content, String status) {
        ObjectNode m = ResponseShape.JSON.createObjectNode().put("type", "message").put("id", messageId).put("status", status)
                .put("role", "assistant");
        ArrayNode parts = m.putArray("content");
        if (!status.equals("in_progress")) {
            parts.add(outputText(content));
        }
        return m;
    }

    private static ObjectNode outputText(String text) {
        ObjectNode p = ResponseShape.JSON.createObjectNode().put("type", "output_text").put("text", text);
        p.putArray("annotations");
        return p;
    }

    private static ObjectNode functionCallItem(ToolCall call, String status) {
        return ResponseShape.JSON.createObjectNode().put("type", "function_call").put("id", "fc_" + call.id().substring(5))
                .put("call_id", call.id()).put("name", call.name()).put("arguments", call.arguments()).put("status", status);
    }

    private interface Body {
        void fill(ObjectNode body);
    }

    /** One named SSE event, its type and sequence number in the body as OpenAI sends them. */
    private void event(String type, Body fill) {
        if (slowReader.dropped()) {
            return;
        }
        ObjectNode body = ResponseShape.JSON.createObjectNode().put("type", type);
        fill.fill(body);
        body.put("sequence_number", sequence++);
        response.write("event: " + type + "\ndata: " + body + "\n\n");
        slowReader.afterWrite();
    }
}
