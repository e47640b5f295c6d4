package ai.nuri.guide;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.RegExp;

/**
 * Regular expressions as JSON Schema's {@code pattern} and vLLM's {@code regex} write them
 * (ECMA-262 syntax) turned into automata by dk.brics, whose own syntax differs: {@code \d \w \s}
 * and their negations become classes, escapes like {@code \n} and {@code \u00e9} become the
 * characters, {@code (?:} becomes a plain group, lazy quantifiers lose their {@code ?} (the same
 * language), and characters that brics treats as operators are escaped. What has no regular
 * equivalent (look-around, back-references, word boundaries, anchors inside) is refused.
 */
public final class EcmaRegex {
    static final int MAX_REPEAT = 1000;
    private static final String SPACE = " \t\n\r\f\u000B\u00A0\u2028\u2029\uFEFF";
    private static final String WORD = "a-zA-Z0-9_";

    private EcmaRegex() {}

    /** The strings that contain a match (JSON Schema's {@code pattern}: unanchored unless written with ^ and $). */
    public static Automaton search(String pattern, String keyword) {
        boolean start = pattern.startsWith("^");
        boolean end = pattern.endsWith("$") && !pattern.endsWith("\\$");
        String body = pattern.substring(start ? 1 : 0, pattern.length() - (end ? 1 : 0));
        Automaton a = compile(body, keyword);
        Automaton any = Automaton.makeAnyString();
        if (!start) {
            a = any.concatenate(a);
        }
        if (!end) {
            a = a.concatenate(any);
        }
        return SizeGuard.requireSmall(a, keyword);
    }

    /** The strings the whole of which match (vLLM's {@code regex}); ^ and $ at the ends are allowed and change nothing. */
    public static Automaton fullMatch(String pattern, String keyword) {
        boolean start = pattern.startsWith("^");
        boolean end = pattern.endsWith("$") && !pattern.endsWith("\\$");
        return SizeGuard.requireSmall(compile(pattern.substring(start ? 1 : 0, pattern.length() - (end ? 1 : 0)), keyword),
                keyword);
    }

    static Automaton compile(String ecma, String keyword) {
        String brics = translate(ecma, keyword);
        try {
            // Not minimized node by node: that would determinize (and could explode) before SizeGuard has looked.
            return new RegExp(brics, RegExp.NONE).toAutomaton(false);
        } catch (IllegalArgumentException e) {
            throw new GuideException("'" + keyword + "' is not a valid regular expression: " + e.getMessage(), keyword);
        }
    }

    static String translate(String p, String keyword) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        boolean inClass = false;
        while (i < p.length()) {
            char c = p.charAt(i);
            if (c == '\\') {
                if (i + 1 >= p.length()) {
                    throw new GuideException("'" + keyword + "' ends with a lone backslash", keyword);
                }
                char e = p.charAt(i + 1);
                i += 2;
                switch (e) {
                    case 'd' -> out.append(inClass ? "0-9" : "[0-9]");
                    case 'w' -> out.append(inClass ? WORD : "[" + WORD + "]");
                    case 's' -> out.append(inClass ? escapeAll(SPACE) : "[" + escapeAll(SPACE) + "]");
                    case 'D', 'W', 'S' -> {
                        if (inClass) {
                            throw new GuideException("'" + keyword + "': \\" + e + " inside a character class is not supported", keyword);
                        }
                        String set = e == 'D' ? "0-9" : e == 'W' ? WORD : escapeAll(SPACE);
                        out.append("[^").append(set).append(']');
                    }
                    case 'n' -> out.append(escape('\n'));
                    case 't' -> out.append(escape('\t'));
                    case 'r' -> out.append(escape('\r'));
                    case 'f' -> out.append(escape('\f'));
                    case 'v' -> out.append(escape('\u000B'));
                    case '0' -> out.append(escape('\0'));
                    case 'x' -> {
                        out.append(escape((char) hex(p, i, 2, keyword)));
                        i += 2;
                    }
                    case 'u' -> {
                        out.append(escape((char) hex(p, i, 4, keyword)));
                        i += 4;
                    }
                    case 'b', 'B' -> {
                        if (inClass && e == 'b') {
                            out.append(escape('\b'));
                        } else {
                            throw new GuideException("'" + keyword + "': word boundaries (\\" + e + ") are not supported", keyword);
                        }
                    }
                    default -> {
                        if (Character.isDigit(e) || e == 'k') {
                            throw new GuideException("'" + keyword + "': back-references are not supported", keyword);
                        }
                        if (Character.isLetter(e)) {
                            throw new GuideException("'" + keyword + "': the escape \\" + e + " is not supported", keyword);
                        }
                        out.append(escape(e));
                    }
                }
                continue;
            }
            i++;
            if (inClass) {
                if (c == ']') {
                    inClass = false;
                    out.append(']');
                } else if (c == '-' || (c == '^' && out.charAt(out.length() - 1) == '[')) {
                    out.append(c);
                } else {
                    out.append(escape(c));
                }
                continue;
            }
            switch (c) {
                case '[' -> {
                    inClass = true;
                    out.append('[');
                    if (i < p.length() && p.charAt(i) == '^') {
                        out.append('^');
                        i++;
                    }
                    if (i < p.length() && p.charAt(i) == ']') {
                        throw new GuideException("'" + keyword + "': empty character classes are not supported", keyword);
                    }
                }
                case '(' -> {
                    if (p.startsWith("?:", i)) {
                        i += 2;
                    } else if (i < p.length() && p.charAt(i) == '?') {
                        throw new GuideException("'" + keyword + "': look-around and named groups are not supported", keyword);
                    }
                    out.append('(');
                }
                case ')', '|' -> out.append(c);
                case '*', '+', '?' -> {
                    out.append(c);
                    if (i < p.length() && p.charAt(i) == '?') {
                        i++; // lazy: same language
                    }
                }
                case '{' -> {
                    int close = p.indexOf('}', i);
                    String inside = close < 0 ? "" : p.substring(i, close);
                    if (inside.matches("\\d+(,\\d*)?")) {
                        for (String bound : inside.split(",")) {
                            if (!bound.isEmpty() && (bound.length() > 4 || Integer.parseInt(bound) > MAX_REPEAT)) {
                                throw new GuideException("'" + keyword + "': repetition counts above " + MAX_REPEAT
                                        + " are not supported", keyword);
                            }
                        }
                        out.append('{').append(inside).append('}');
                        i = close + 1;
                        if (i < p.length() && p.charAt(i) == '?') {
                            i++;
                        }
                    } else {
                        out.append(escape('{'));
                    }
                }
                case '.' -> out.append("[^").append(escapeAll("\n\r\u2028\u2029")).append(']');
                case '^', '$' -> throw new GuideException("'" + keyword + "': anchors (^, $) are only supported at the ends", keyword);
                default -> out.append(escape(c));
            }
        }
        if (inClass) {
            throw new GuideException("'" + keyword + "' has an unclosed character class", keyword);
        }
        return out.toString();
    }

    private static int hex(String p, int at, int digits, String keyword) {
        if (at + digits > p.length()) {
            throw new GuideException("'" + keyword + "' has a short hexadecimal escape", keyword);
        }
        try {
            return Integer.parseInt(p.substring(at, at + digits), 16);
        } catch (NumberFormatException e) {
            throw new GuideException("'" + keyword + "' has a bad hexadecimal escape", keyword);
        }
    }

    /** A literal character in brics syntax: letters and digits as they are, anything else escaped. */
    static String escape(char c) {
        return Character.isLetterOrDigit(c) || c > 127 ? String.valueOf(c) : "\\" + c;
    }

    private static String escapeAll(String chars) {
        StringBuilder sb = new StringBuilder();
        for (char c : chars.toCharArray()) {
            sb.append(escape(c));
        }
        return sb.toString();
    }
}
