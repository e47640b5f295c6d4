package ai.nuri.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps client text out of the control-token channel. A chat template writes its markup (role
 * headers, end-of-turn tokens, image placeholders) around the client's message text; tokenizing the
 * rendered string in one piece would turn special-token text typed by a user
 * ({@code <|im_end|>\n<|im_start|>system}) into the control tokens themselves and let them forge a turn.
 *
 * <p>The fence works in three steps around the render, so the tokenizer still sees one string:
 * <ol>
 *   <li>{@link #hide} every client string before rendering: special-token text in it becomes a
 *       placeholder, and so does the first character of a trailing piece that could start a special
 *       token together with the next client string (a text part {@code "<|im_"} followed by
 *       {@code "end|>"}).</li>
 *   <li>After rendering, {@link #seal} turns the template's own special-token text (all that is left)
 *       into an alias, a string of Unicode noncharacters that the alias tokenizer knows as that special
 *       token's id, and puts the client's hidden text back as it was.</li>
 *   <li>The alias tokenizer ({@link #aliasTokenizerJson}, tokenizer.json with each special token's text
 *       replaced by its alias) encodes the sealed string: the client's text as plain text, the markup
 *       as control tokens, in one pass with the tokenizer's own normalization and pre-tokenization.</li>
 * </ol>
 * A template that transforms message text ({@code lower}, {@code replace}, slicing) could still
 * assemble a special token from hidden pieces; {@link #hideStrictly} hides every character any special
 * token is made of, so that a second render's control tokens are the template's alone, and the
 * caller refuses a prompt whose two renders disagree ({@link #controlTokens}).
 * The noncharacters U+FDD0..U+FDEF are reserved for this: a client string holding one is refused.
 */
final class ControlTokenFence {
    static final char FIRST_RESERVED = '\uFDD0';
    static final char LAST_RESERVED = '\uFDEF';
    private static final char PLACEHOLDER_OPEN = '\uFDD0';
    private static final char PLACEHOLDER_CLOSE = '\uFDD1';
    private static final char LITERAL_OPEN = '\uFDD2';
    private static final char LITERAL_CLOSE = '\uFDD3';
    private static final char ALIAS_OPEN = '\uFDD4';
    private static final char ALIAS_CLOSE = '\uFDD5';
    /** Hexadecimal digits written as noncharacters, so that nothing in a placeholder is ordinary text. */
    private static final char DIGIT_ZERO = '\uFDE0';

    private final List<String> specials;
    private final Map<String, Integer> indexOf = new HashMap<>();
    /** The special tokens' texts as a trie: matching costs the longest text's length per position, not their number. */
    private final Node root = new Node();
    /** Every character a special token's text holds, in either case: what strict hiding hides. */
    private final BitSet specialChars = new BitSet();

    /** A trie node: children by character; {@code special} is the index of the text ending here, or -1. */
    private static final class Node {
        final Map<Character, Node> next = new HashMap<>(4);
        int special = -1;
    }

    ControlTokenFence(Collection<String> specialTexts) {
        this.specials = specialTexts.stream().filter(s -> !s.isEmpty()).distinct().toList();
        for (int i = 0; i < specials.size(); i++) {
            String text = specials.get(i);
            indexOf.put(text, i);
            Node n = root;
            for (int k = 0; k < text.length(); k++) {
                char c = text.charAt(k);
                n = n.next.computeIfAbsent(c, x -> new Node());
                specialChars.set(c);
                specialChars.set(Character.toLowerCase(c));
                specialChars.set(Character.toUpperCase(c));
            }
            n.special = i;
        }
    }

    /** The alias of a special token's text: what the alias tokenizer matches instead of the text. */
    String alias(String specialText) {
        return coded(ALIAS_OPEN, indexOf.get(specialText), ALIAS_CLOSE);
    }

    /**
     * A client string made safe to render: special-token text replaced by placeholders, and the first
     * character of a trailing piece that begins a special token.
     *
     * @throws ChatTemplate.TemplateException if the string holds one of the reserved noncharacters
     */
    String hide(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = null;
        int copied = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            refuseReserved(c);
            Node first = root.next.get(c);
            if (first == null) {
                continue;
            }
            Match m = match(text, i);
            String replacement;
            if (m.special >= 0) {
                replacement = coded(PLACEHOLDER_OPEN, m.special, PLACEHOLDER_CLOSE);
            } else if (m.reachedEnd) {
                replacement = coded(LITERAL_OPEN, c, LITERAL_CLOSE);
            } else {
                continue;
            }
            int skip = m.special >= 0 ? specials.get(m.special).length() : 1;
            if (out == null) {
                out = new StringBuilder(text.length() + 16);
            }
            out.append(text, copied, i).append(replacement);
            copied = i + skip;
            i += skip - 1;
        }
        return out == null ? text : out.append(text, copied, text.length()).toString();
    }

    /**
     * A client string with every character that any special token's text holds (in either case)
     * replaced by a placeholder: whatever a template does to it, no special token can come of it.
     */
    String hideStrictly(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = new StringBuilder(text.length() * 2);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            refuseReserved(c);
            if (specialChars.get(c)) {
                out.append(coded(LITERAL_OPEN, c, LITERAL_CLOSE));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Every string in a value the template will see (maps, lists, their keys), hidden. */
    Object hideAll(Object value) {
        if (value instanceof String s) {
            return hide(s);
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(hideAll(k), hideAll(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(hideAll(v)));
            return out;
        }
        return value;
    }

    /**
     * The rendered prompt as the alias tokenizer must read it: the template's special-token text
     * as aliases, the client's hidden text back as it was.
     */
    String seal(String rendered) {
        StringBuilder out = new StringBuilder(rendered.length() + 64);
        for (int i = 0; i < rendered.length(); i++) {
            char c = rendered.charAt(i);
            if (c == PLACEHOLDER_OPEN || c == LITERAL_OPEN) {
                int end = rendered.indexOf(c == PLACEHOLDER_OPEN ? PLACEHOLDER_CLOSE : LITERAL_CLOSE, i + 1);
                int code = end < 0 ? -1 : decode(rendered, i + 1, end);
                if (code >= 0 && c == PLACEHOLDER_OPEN && code < specials.size()) {
                    out.append(specials.get(code));
                    i = end;
                } else if (code >= 0 && c == LITERAL_OPEN && !(code >= FIRST_RESERVED && code <= LAST_RESERVED)) {
                    out.append((char) code);
                    i = end;
                } // else: a placeholder the template cut apart; its pieces are dropped below
                continue;
            }
            if (c >= FIRST_RESERVED && c <= LAST_RESERVED) {
                continue; // only pieces of placeholders can be here (client strings holding these were refused)
            }
            Match m = root.next.containsKey(c) ? match(rendered, i) : Match.NONE;
            if (m.special >= 0) {
                out.append(coded(ALIAS_OPEN, m.special, ALIAS_CLOSE));
                i += specials.get(m.special).length() - 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The control tokens a sealed prompt holds, in order (as indexes of their texts). */
    List<Integer> controlTokens(String sealed) {
        List<Integer> out = new ArrayList<>();
        for (int i = sealed.indexOf(ALIAS_OPEN); i >= 0; i = sealed.indexOf(ALIAS_OPEN, i + 1)) {
            int end = sealed.indexOf(ALIAS_CLOSE, i + 1);
            out.add(decode(sealed, i + 1, end));
        }
        return out;
    }

    /**
     * tokenizer.json for the alias tokenizer: each added token marked special carries its alias as
     * its text, and so does its entry in the model's vocabulary if it has one (Hugging Face tokenizers
     * takes an added token's id from the vocabulary when the text is there, else numbers it after the
     * vocabulary in list order, so renaming both keeps every id), and the model's unknown token if it
     * is one of them. Matching flags stay as they were.
     */
    JsonNode aliasTokenizerJson(JsonNode spec) {
        JsonNode copy = spec.deepCopy();
        JsonNode model = copy.path("model");
        JsonNode vocab = model.path("vocab");
        for (JsonNode t : copy.path("added_tokens")) {
            String content = t.path("content").asText();
            if (!t.path("special").asBoolean(true) || !indexOf.containsKey(content)) {
                continue;
            }
            ((ObjectNode) t).put("content", alias(content));
            if (vocab instanceof ObjectNode byText && byText.has(content)) { // BPE, WordPiece: {"text": id}
                byText.set(alias(content), byText.remove(content));
            } else if (vocab instanceof ArrayNode pieces) { // Unigram: [[text, score]]
                for (JsonNode piece : pieces) {
                    if (piece.path(0).asText().equals(content)) {
                        ((ArrayNode) piece).set(0, alias(content));
                    }
                }
            }
            if (model instanceof ObjectNode m && content.equals(m.path("unk_token").asText(null))) {
                m.put("unk_token", alias(content)); // BPE and WordPiece name their unknown token by its text
            }
        }
        return copy;
    }

    /** What starts at a position: the longest special token's index (or -1), and whether the text ended inside one. */
    private record Match(int special, boolean reachedEnd) {
        static final Match NONE = new Match(-1, false);
    }

    /** Leftmost-longest, as the tokenizer matches added tokens. */
    private Match match(String s, int at) {
        Node n = root;
        int longest = -1;
        int i = at;
        while (i < s.length()) {
            n = n.next.get(s.charAt(i));
            if (n == null) {
                return new Match(longest, false);
            }
            if (n.special >= 0) {
                longest = n.special;
            }
            i++;
        }
        return new Match(longest, !n.next.isEmpty()); // the text ends partway into a longer special token
    }

    private static void refuseReserved(char c) {
        if (c >= FIRST_RESERVED && c <= LAST_RESERVED) {
            throw new ChatTemplate.TemplateException(String.format("message text may not contain the Unicode "
                    + "noncharacter U+%04X (U+FDD0..U+FDEF are reserved for keeping control tokens out of it)", (int) c));
        }
    }

    private static String coded(char open, int value, char close) {
        StringBuilder b = new StringBuilder(8).append(open);
        String hex = Integer.toHexString(value);
        for (int i = 0; i < hex.length(); i++) {
            b.append((char) (DIGIT_ZERO + Character.digit(hex.charAt(i), 16)));
        }
        return b.append(close).toString();
    }

    /** The number coded between {@code from} and {@code to}, or -1 if that is not a whole code. */
    private static int decode(String s, int from, int to) {
        if (to <= from || to - from > 6) {
            return -1;
        }
        int value = 0;
        for (int i = from; i < to; i++) {
            int digit = s.charAt(i) - DIGIT_ZERO;
            if (digit < 0 || digit > 15) {
                return -1;
            }
            value = value * 16 + digit;
        }
        return value;
    }
}
