package ai.nuri.http;

import ai.nuri.engine.TokenLogprob;
import ai.nuri.text.Tokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** How chat completions and text completions differ on the wire: object names, choice bodies, logprobs. */
enum ResponseShape {
    CHAT("chatcmpl-", "chat.completion", "chat.completion.chunk"),
    TEXT("cmpl-", "text_completion", "text_completion");

    static final ObjectMapper JSON = new ObjectMapper();

    final String idPrefix;
    final String object;
    final String chunkObject;

    ResponseShape(String idPrefix, String object, String chunkObject) {
        this.idPrefix = idPrefix;
        this.object = object;
        this.chunkObject = chunkObject;
    }

    /** The choice of a complete (non-streamed) response. */
    void fillChoice(ObjectNode choice, String text) {
        if (this == CHAT) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", text);
        } else {
            choice.put("text", text);
        }
    }

    /** A chat choice whose answer was tool calls: content (or null) and {@code tool_calls}, as OpenAI writes them. */
    static void fillToolCalls(ObjectNode choice, ai.nuri.text.ToolCallFormat.Parsed parsed) {
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        if (parsed.content() == null) {
            message.putNull("content");
        } else {
            message.put("content", parsed.content());
        }
        ArrayNode calls = message.putArray("tool_calls");
        for (ai.nuri.text.ToolCall call : parsed.calls()) {
            ObjectNode c = calls.addObject();
            c.put("id", call.id());
            c.put("type", "function");
            c.putObject("function").put("name", call.name()).put("arguments", call.arguments());
        }
    }

    /** The choice of a streamed chunk; the first chat chunk of a choice carries the role. */
    void fillDelta(ObjectNode choice, String text, boolean first) {
        if (this == CHAT) {
            ObjectNode delta = choice.putObject("delta");
            if (first) {
                delta.put("role", "assistant");
            }
            delta.put("content", text);
        } else {
            choice.put("text", text);
        }
    }

    /** OpenAI's logprobs object for these tokens, or null if none were asked for. */
    ObjectNode logprobs(List<TokenLogprob> lps, Tokenizer tokenizer, int textOffset) {
        if (lps == null) {
            return null;
        }
        ObjectNode node = JSON.createObjectNode();
        if (this == CHAT) {
            ArrayNode content = node.putArray("content");
            for (TokenLogprob lp : lps) {
                ObjectNode entry = tokenEntry(content.addObject(), lp.token(), lp.logprob(), tokenizer);
                ArrayNode top = entry.putArray("top_logprobs");
                for (TokenLogprob.Candidate c : lp.top()) {
                    tokenEntry(top.addObject(), c.token(), c.logprob(), tokenizer);
                }
            }
        } else {
            ArrayNode tokens = node.putArray("tokens");
            ArrayNode tokenLogprobs = node.putArray("token_logprobs");
            ArrayNode top = node.putArray("top_logprobs");
            ArrayNode offsets = node.putArray("text_offset");
            java.io.ByteArrayOutputStream seen = new java.io.ByteArrayOutputStream();
            for (TokenLogprob lp : lps) {
                byte[] raw = tokenizer.tokenBytes(lp.token());
                tokens.add(tokenText(raw));
                tokenLogprobs.add(lp.logprob());
                ObjectNode alternatives = top.addObject();
                for (TokenLogprob.Candidate c : lp.top()) {
                    alternatives.put(tokenText(tokenizer.tokenBytes(c.token())), c.logprob());
                }
                offsets.add(textOffset + completeChars(seen.toByteArray()));
                seen.writeBytes(raw);
            }
        }
        return node;
    }

    private static ObjectNode tokenEntry(ObjectNode entry, int token, float logprob, Tokenizer tokenizer) {
        byte[] raw = tokenizer.tokenBytes(token);
        entry.put("token", tokenText(raw));
        entry.put("logprob", logprob);
        ArrayNode bytes = entry.putArray("bytes");
        for (byte b : raw) {
            bytes.add(b & 0xFF);
        }
        return entry;
    }

    /** A token's text; a token that is only part of a character is written "bytes:\\xNN...", as OpenAI does. */
    static String tokenText(byte[] raw) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(raw)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            StringBuilder sb = new StringBuilder("bytes:");
            for (byte b : raw) {
                sb.append(String.format("\\x%02x", b & 0xFF));
            }
            return sb.toString();
        }
    }

    /** Characters in the complete UTF-8 prefix of these bytes (an unfinished last character does not count). */
    static int completeChars(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        return end;
    }
}
