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
            int offset = textOffset;
            for (TokenLogprob lp : lps) {
                String t = tokenizer.decode(new int[] {lp.token()}, false);
                tokens.add(t);
                tokenLogprobs.add(lp.logprob());
                ObjectNode alternatives = top.addObject();
                for (TokenLogprob.Candidate c : lp.top()) {
                    alternatives.put(tokenizer.decode(new int[] {c.token()}, false), c.logprob());
                }
                offsets.add(offset);
                offset += t.length();
            }
        }
        return node;
    }

    private static ObjectNode tokenEntry(ObjectNode entry, int token, float logprob, Tokenizer tokenizer) {
        String t = tokenizer.decode(new int[] {token}, false);
        entry.put("token", t);
        entry.put("logprob", logprob);
        ArrayNode bytes = entry.putArray("bytes");
        for (byte b : t.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xFF);
        }
        return entry;
    }
}
