package ai.nuri.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
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
 * The noncharacters U+FDD0..U+FDEF are reserved for this: a client string holding one is refused.
 * The template's own literals are trusted to contain no partial special token.
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

    /** Special-token texts, longest first: a match is leftmost-longest, as the tokenizer matches added tokens. */
    private final List<String> specials;
    private final Map<String, Integer> indexOf = new HashMap<>();
    private final String firstChars;

    ControlTokenFence(java.util.Collection<String> specialTexts) {
        List<String> sorted = new ArrayList<>(specialTexts.stream().filter(s -> !s.isEmpty()).distinct().toList());
        sorted.sort(Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()));
        this.specials = List.copyOf(sorted);
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < specials.size(); i++) {
            indexOf.put(specials.get(i), i);
            if (first.indexOf(specials.get(i).substring(0, 1)) < 0) {
                first.append(specials.get(i).charAt(0));
            }
        }
        this.firstChars = first.toString();
    }

    /** The alias of a special token's text: what the alias tokenizer matches instead of the text. */
    String alias(String specialText) {
        return coded(ALIAS_OPEN, indexOf.get(specialText), ALIAS_CLOSE);
    }

    /**
     * A client string made safe to render: special-token text replaced by placeholders.
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
            if (c >= FIRST_RESERVED && c <= LAST_RESERVED) {
                throw new ChatTemplate.TemplateException(String.format("message text may not contain the Unicode "
                        + "noncharacter U+%04X (U+FDD0..U+FDEF are reserved for keeping control tokens out of it)", (int) c));
            }
            if (firstChars.indexOf(c) < 0) {
                continue;
            }
            String whole = specialAt(text, i);
            String replacement;
            int skip;
            if (whole != null) {
                replacement = coded(PLACEHOLDER_OPEN, indexOf.get(whole), PLACEHOLDER_CLOSE);
                skip = whole.length();
            } else if (startsSpecial(text, i)) {
                replacement = coded(LITERAL_OPEN, c, LITERAL_CLOSE);
                skip = 1;
            } else {
                continue;
            }
            if (out == null) {
                out = new StringBuilder(text.length() + 16);
            }
            out.append(text, copied, i).append(replacement);
            copied = i + skip;
            i += skip - 1;
        }
        return out == null ? text : out.append(text, copied, text.length()).toString();
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
                } else if (code >= 0 && c == LITERAL_OPEN) {
                    out.append((char) code);
                    i = end;
                } // else: a placeholder the template cut apart; its pieces are dropped below
                continue;
            }
            if (c >= FIRST_RESERVED && c <= LAST_RESERVED) {
                continue; // only pieces of placeholders can be here (client strings holding these were refused)
            }
            String whole = firstChars.indexOf(c) < 0 ? null : specialAt(rendered, i);
            if (whole != null) {
                out.append(alias(whole));
                i += whole.length() - 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * tokenizer.json for the alias tokenizer: each added token marked special carries its alias as
     * its text, and so does its entry in the model's vocabulary if it has one (Hugging Face tokenizers
     * takes an added token's id from the vocabulary when the text is there, else numbers it after the
     * vocabulary in list order, so renaming both keeps every id). Matching flags stay as they were.
     */
    JsonNode aliasTokenizerJson(JsonNode spec) {
        JsonNode copy = spec.deepCopy();
        JsonNode vocab = copy.path("model").path("vocab");
        for (JsonNode t : copy.path("added_tokens")) {
            String content = t.path("content").asText();
            if (!t.path("special").asBoolean(true) || !indexOf.containsKey(content)) {
                continue;
            }
            ((ObjectNode) t).put("content", alias(content));
            if (vocab instanceof ObjectNode byText && byText.has(content)) { // BPE, WordPiece: {"text": id}
                byText.set(alias(content), byText.remove(content));
            } else if (vocab instanceof com.fasterxml.jackson.databind.node.ArrayNode pieces) { // Unigram: [[text, score]]
                for (JsonNode piece : pieces) {
                    if (piece.path(0).asText().equals(content)) {
                        ((com.fasterxml.jackson.databind.node.ArrayNode) piece).set(0, alias(content));
                    }
                }
            }
        }
        return copy;
    }

    /** The longest special-token text starting at {@code at}, or null. */
    private String specialAt(String s, int at) {
        for (String special : specials) { // longest first
            if (s.startsWith(special, at)) {
                return special;
            }
        }
        return null;
    }

    /** Whether the rest of {@code s} from {@code at} is a proper prefix of a special token's text. */
    private boolean startsSpecial(String s, int at) {
        int rest = s.length() - at;
        for (String special : specials) {
            if (special.length() > rest && special.regionMatches(0, s, at, rest)) {
                return true;
            }
        }
        return false;
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
