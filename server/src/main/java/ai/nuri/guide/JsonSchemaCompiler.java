package ai.nuri.guide;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.BasicAutomata;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON Schema to the regular language of the JSON texts that fit it, for the subset that OpenAI's
 * structured outputs define (and a little more): object (properties, required, additionalProperties),
 * string (enum, const, pattern, format, minLength, maxLength), integer and number (minimum,
 * maximum, exclusive bounds), boolean, null, array (items, minItems, maxItems), anyOf, type lists,
 * $ref into $defs/definitions (recursion unrolled to {@link #MAX_REF_DEPTH}). Anything else is
 * refused with the keyword named, never approximated.
 *
 * <p>The text is compact JSON with at most one space after ':' and ','; properties come in the
 * schema's order; extra properties are never generated (so any additionalProperties is met).
 * Non-ASCII characters are written as they are, so Hangul stays readable. Unbounded integers have
 * at most 18 digits, fractions at most 15.
 */
public final class JsonSchemaCompiler {
    static final int MAX_REF_DEPTH = 3;
    /** Nesting depth of objects and arrays where a schema allows any JSON value. */
    static final int ANY_VALUE_DEPTH = 4;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema",
            "$id", "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "strict", "nullable");
    private static final Map<String, Set<String>> KEYWORDS = Map.of(
            "object", Set.of("properties", "required", "additionalProperties"),
            "array", Set.of("items", "minItems", "maxItems"),
            "string", Set.of("pattern", "format", "minLength", "maxLength"),
            "integer", Set.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
            "number", Set.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
            "boolean", Set.of(),
            "null", Set.of());
    private static final Set<String> GENERAL = Set.of("type", "enum", "const", "anyOf", "$ref", "allOf");

    // Building blocks of JSON text.
    static final Automaton SEP = BasicAutomata.makeChar(' ').optional();
    static final Automaton STRING_CHAR = BasicAutomata.makeCharRange('\u0020', '\uFFFF')
            .minus(BasicAutomata.makeCharSet("\"\\"))
            .union(BasicAutomata.makeChar('\\').concatenate(BasicAutomata.makeCharSet("\"\\/bfnrt")
                    // \\u only for control characters: Hangul and every other printable character are written as they are.
                    .union(BasicAutomata.makeString("u00").concatenate(BasicAutomata.makeCharSet("01"))
                            .concatenate(hexDigit()))));
    private static final Automaton PLAIN_CHAR = BasicAutomata.makeCharRange('\u0020', '\uFFFF')
            .minus(BasicAutomata.makeCharSet("\"\\"));
    static final Automaton DIGITS_NO_LEADING_ZERO = BasicAutomata.makeChar('0')
            .union(BasicAutomata.makeCharRange('1', '9').concatenate(digit().repeat(0, 17)));
    private static final Automaton FRACTION = BasicAutomata.makeChar('.').concatenate(digit().repeat(1, 15));

    private final JsonNode root;
    private final Map<String, Integer> refDepth = new HashMap<>();

    private JsonSchemaCompiler(JsonNode root) {
        this.root = root;
    }

    /** The grammar of JSON texts that fit {@code schema}. */
    public static Grammar compile(JsonNode schema, String name) {
        return Grammar.of(automaton(schema), "json_schema " + name);
    }

    static Automaton automaton(JsonNode schema) {
        if (schema == null || !schema.isObject()) {
            throw new GuideException("the schema must be a JSON object", "schema");
        }
        Automaton a = new JsonSchemaCompiler(schema).value(schema, "schema");
        if (a.isEmpty()) {
            throw new GuideException("the schema admits no value that can be generated", "schema");
        }
        return a;
    }

    /** The grammar of any JSON object ({@code response_format: json_object}), nested up to a fixed depth. */
    public static Grammar anyObject() {
        return Grammar.of(anyObject(ANY_VALUE_DEPTH), "json_object");
    }

    /** Most automaton states a schema may compile to (before determinization): bigger ones are refused, not built. */
    static final int MAX_STATES = 10_000;

    private Automaton value(JsonNode s, String path) {
        Automaton a = valueUnchecked(s, path);
        if (a.getNumberOfStates() > MAX_STATES) {
            throw tooLarge(path);
        }
        return a;
    }

    private Automaton valueUnchecked(JsonNode s, String path) {
        if (s.isBoolean()) {
            if (s.asBoolean()) {
                return anyValue(ANY_VALUE_DEPTH);
            }
            throw new GuideException(path + " is false: no value fits", path);
        }
        if (!s.isObject()) {
            throw new GuideException(path + " must be a schema object", path);
        }
        if (s.has("$ref")) {
            return ref(s, path);
        }
        if (s.has("allOf")) {
            JsonNode all = s.get("allOf");
            if (!all.isArray() || all.size() != 1 || s.size() > 1 + countAnnotations(s)) {
                throw new GuideException(path + ".allOf is supported only with a single schema", "allOf");
            }
            return value(all.get(0), path + ".allOf[0]");
        }
        checkKeywords(s, path);
        if (s.has("const")) {
            refuseBeside(s, path, "const");
            return literal(s.get("const"));
        }
        if (s.has("enum")) {
            refuseBeside(s, path, "enum");
            JsonNode values = s.get("enum");
            if (!values.isArray() || values.isEmpty()) {
                throw new GuideException(path + ".enum must be a non-empty list", "enum");
            }
            Automaton a = BasicAutomata.makeEmpty();
            for (JsonNode v : values) {
                a = a.union(literal(v));
            }
            return a;
        }
        if (s.has("anyOf")) {
            refuseBeside(s, path, "anyOf");
            JsonNode any = s.get("anyOf");
            if (!any.isArray() || any.isEmpty()) {
                throw new GuideException(path + ".anyOf must be a non-empty list", "anyOf");
            }
            Automaton a = BasicAutomata.makeEmpty();
            for (int i = 0; i < any.size(); i++) {
                a = a.union(value(any.get(i), path + ".anyOf[" + i + "]"));
            }
            return a;
        }
        JsonNode type = s.get("type");
        if (type == null) {
            String implied = impliedType(s, path);
            return implied == null ? anyValue(ANY_VALUE_DEPTH) : typed(implied, s, path);
        }
        if (type.isArray()) {
            Automaton a = BasicAutomata.makeEmpty();
            for (JsonNode t : type) {
                a = a.union(typed(t.asText(), s, path));
            }
            return a;
        }
        return typed(type.asText(), s, path);
    }

    private Automaton typed(String type, JsonNode s, String path) {
        return switch (type) {
            case "object" -> object(s, path);
            case "array" -> array(s, path);
            case "string" -> string(s, path);
            case "integer" -> integer(s, path);
            case "number" -> number(s, path);
            case "boolean" -> BasicAutomata.makeString("true").union(BasicAutomata.makeString("false"));
            case "null" -> BasicAutomata.makeString("null");
            default -> throw new GuideException(path + ".type '" + type + "' is not a JSON Schema type", "type");
        };
    }

    /**
     * Without "type", the one type whose keywords the schema uses (as a validator would apply them); keywords of
     * several types are refused rather than half enforced; none: any value.
     */
    private static String impliedType(JsonNode s, String path) {
        String implied = null;
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            for (Map.Entry<String, Set<String>> e : KEYWORDS.entrySet()) {
                if (e.getValue().contains(k) && !e.getKey().equals("number")) {
                    String t = e.getKey().equals("integer") ? "number" : e.getKey();
                    if (implied != null && !implied.equals(t)) {
                        throw new GuideException("the schema at " + path + " mixes keywords of " + implied + " and " + t
                                + " without a 'type'", k);
                    }
                    implied = t;
                }
            }
        }
        return implied;
    }

    /** enum, const and anyOf take the whole value: a type-specific keyword beside them would be ignored, so it is refused. */
    private static void refuseBeside(JsonNode s, String path, String keyword) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!GENERAL.contains(k) && !ANNOTATIONS.contains(k)) {
                throw new GuideException("'" + k + "' beside '" + keyword + "' (at " + path + ") is not supported", k);
            }
        }
    }

    private void checkKeywords(JsonNode s, String path) {
        Set<String> allowed = new java.util.HashSet<>(GENERAL);
        allowed.addAll(ANNOTATIONS);
        JsonNode type = s.get("type");
        List<String> types = new ArrayList<>();
        if (type != null && type.isTextual()) {
            types.add(type.asText());
        } else if (type != null && type.isArray()) {
            type.forEach(t -> types.add(t.asText()));
        } else if (type == null) {
            types.addAll(KEYWORDS.keySet());
        } else {
            throw new GuideException(path + ".type must be a string or a list of strings", "type");
        }
        for (String t : types) {
            allowed.addAll(KEYWORDS.getOrDefault(t, Set.of()));
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new GuideException("the schema keyword '" + k + "' (at " + path + ") is not supported", k);
            }
        }
    }

    private static int countAnnotations(JsonNode s) {
        int n = 0;
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            if (ANNOTATIONS.contains(it.next())) {
                n++;
            }
        }
        return n;
    }

    private Automaton ref(JsonNode s, String path) {
        String ref = s.get("$ref").asText();
        JsonNode target;
        if (ref.equals("#")) {
            target = root;
        } else if (ref.startsWith("#/")) {
            target = root.at(ref.substring(1)); // JSON Pointer: at() decodes ~1 and ~0 itself, in the right order
        } else {
            throw new GuideException(path + ".$ref '" + ref + "': only references inside the schema (#/...) are supported", "$ref");
        }
        if (target.isMissingNode()) {
            throw new GuideException(path + ".$ref '" + ref + "' points to nothing", "$ref");
        }
        int depth = refDepth.getOrDefault(ref, 0);
        if (depth >= MAX_REF_DEPTH) {
            return BasicAutomata.makeEmpty(); // recursion unrolled this far: deeper branches are not generated
        }
        refDepth.put(ref, depth + 1);
        try {
            return value(target, ref);
        } finally {
            refDepth.put(ref, depth);
        }
    }

    private Automaton object(JsonNode s, String path) {
        JsonNode props = s.path("properties");
        if (!props.isMissingNode() && !props.isObject()) {
            throw new GuideException(path + ".properties must be an object", "properties");
        }
        Set<String> required = new java.util.HashSet<>();
        JsonNode req = s.get("required");
        if (req != null) {
            if (!req.isArray()) {
                throw new GuideException(path + ".required must be a list of property names", "required");
            }
            for (JsonNode r : req) {
                if (!r.isTextual() || !props.has(r.asText())) {
                    throw new GuideException(path + ".required names '" + r.asText() + "', which is not in properties", "required");
                }
                required.add(r.asText());
            }
        }
        JsonNode additional = s.get("additionalProperties");
        if (additional != null && !additional.isBoolean() && !additional.isObject()) {
            throw new GuideException(path + ".additionalProperties must be a boolean or a schema", "additionalProperties");
        }
        if (props.isMissingNode() || props.isEmpty()) {
            boolean closed = additional != null && additional.isBoolean() && !additional.asBoolean();
            return closed ? BasicAutomata.makeString("{}") : anyObject(ANY_VALUE_DEPTH);
        }
        // none: no property written yet; some: at least one (the next needs a comma).
        Automaton none = BasicAutomata.makeEmptyString();
        Automaton some = BasicAutomata.makeEmpty();
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Automaton member = literal(JSON.getNodeFactory().textNode(e.getKey()))
                    .concatenate(BasicAutomata.makeChar(':')).concatenate(SEP)
                    .concatenate(value(e.getValue(), path + ".properties." + e.getKey()));
            Automaton after = none.concatenate(member)
                    .union(some.concatenate(BasicAutomata.makeChar(',')).concatenate(SEP).concatenate(member));
            if (required.contains(e.getKey())) {
                some = after;
                none = BasicAutomata.makeEmpty();
            } else {
                some = some.union(after);
            }
            if (some.getNumberOfStates() > 2 * MAX_STATES) {
                throw tooLarge(path + ".properties." + e.getKey());
            }
            some.minimize();
        }
        return BasicAutomata.makeChar('{').concatenate(none.union(some)).concatenate(BasicAutomata.makeChar('}'));
    }

    private Automaton array(JsonNode s, String path) {
        int min = nonNegative(s, "minItems", 0, path);
        int max = nonNegative(s, "maxItems", -1, path);
        if (max >= 0 && max < min) {
            throw new GuideException(path + ": maxItems is below minItems", "maxItems");
        }
        JsonNode items = s.get("items");
        Automaton item = items == null ? anyValue(ANY_VALUE_DEPTH - 1) : value(items, path + ".items");
        if ((long) item.getNumberOfStates() * Math.max(min, max) > MAX_STATES) {
            throw tooLarge(path);
        }
        return list('[', item, min, max, ']');
    }

    /** open, then min..max items separated by commas, then close; max -1 for unbounded. */
    private static Automaton list(char open, Automaton item, int min, int max, char close) {
        Automaton more = BasicAutomata.makeChar(',').concatenate(SEP).concatenate(item);
        Automaton body;
        if (max == 0) {
            body = BasicAutomata.makeEmptyString();
        } else {
            Automaton tail = max < 0 ? more.repeat(Math.max(0, min - 1)) : more.repeat(Math.max(0, min - 1), max - 1);
            body = item.concatenate(tail);
            if (min == 0) {
                body = body.optional();
            }
        }
        return BasicAutomata.makeChar(open).concatenate(body).concatenate(BasicAutomata.makeChar(close));
    }

    private static GuideException tooLarge(String path) {
        return new GuideException("the schema is too large to enforce (at " + path + "): over " + MAX_STATES
                + " automaton states; lower maxLength, maxItems or nesting", "schema");
    }

    private Automaton string(JsonNode s, String path) {
        int min = nonNegative(s, "minLength", 0, path);
        int max = nonNegative(s, "maxLength", -1, path);
        if ((long) Math.max(min, max) * 12 > MAX_STATES) { // about 12 states per character before minimizing: refused unbuilt
            throw tooLarge(path);
        }
        if (max >= 0 && max < min) {
            throw new GuideException(path + ": maxLength is below minLength", "maxLength");
        }
        Automaton content;
        if (s.has("pattern") || s.has("format")) {
            content = max < 0 ? PLAIN_CHAR.repeat(min) : PLAIN_CHAR.repeat(min, max);
            if (s.has("pattern")) {
                if (!s.get("pattern").isTextual()) {
                    throw new GuideException(path + ".pattern must be a string", "pattern");
                }
                content = content.intersection(EcmaRegex.search(s.get("pattern").asText(), "pattern"));
            }
            if (s.has("format")) {
                content = content.intersection(Formats.of(s.get("format").asText(), path));
            }
        } else {
            content = max < 0 ? STRING_CHAR.repeat(min) : STRING_CHAR.repeat(min, max);
        }
        return BasicAutomata.makeChar('"').concatenate(content).concatenate(BasicAutomata.makeChar('"'));
    }

    private Automaton integer(JsonNode s, String path) {
        Bounds b = Bounds.of(s, path, true);
        long lo = b.lo == null ? -NumberRanges.MAX : b.loExclusive ? b.lo + 1 : b.lo;
        long hi = b.hi == null ? NumberRanges.MAX : b.hiExclusive ? b.hi - 1 : b.hi;
        if (lo > hi) {
            throw new GuideException(path + ": no integer lies between the bounds", "minimum");
        }
        return NumberRanges.integers(lo, hi);
    }

    private Automaton number(JsonNode s, String path) {
        Bounds b = Bounds.of(s, path, false);
        if (b.lo == null && b.hi == null) {
            Automaton exponent = BasicAutomata.makeCharSet("eE").concatenate(BasicAutomata.makeCharSet("+-").optional())
                    .concatenate(digit().repeat(1, 3));
            return BasicAutomata.makeChar('-').optional().concatenate(DIGITS_NO_LEADING_ZERO)
                    .concatenate(FRACTION.optional()).concatenate(exponent.optional());
        }
        return NumberRanges.decimals(b.lo, b.loExclusive, b.hi, b.hiExclusive);
    }

    /** A schema's numeric bounds, inclusive or exclusive; null where unbounded. Non-integer bounds only for integers. */
    private record Bounds(Long lo, boolean loExclusive, Long hi, boolean hiExclusive) {
        static Bounds of(JsonNode s, String path, boolean integerType) {
            Long lo = null;
            Long hi = null;
            boolean loEx = false;
            boolean hiEx = false;
            for (String k : List.of("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")) {
                JsonNode v = s.get(k);
                if (v == null) {
                    continue;
                }
                if (!v.isNumber()) {
                    throw new GuideException(path + "." + k + " must be a number", k);
                }
                double d = v.asDouble();
                long bound;
                if (d == Math.rint(d) && Math.abs(d) <= NumberRanges.MAX) {
                    bound = (long) d;
                } else if (integerType && Math.abs(d) <= NumberRanges.MAX) {
                    // A fractional bound on an integer is the nearest integer inside it, inclusive; the tighter bound wins.
                    if (k.contains("inimum")) {
                        long inside = (long) Math.ceil(d);
                        if (lo == null || inside > (loEx ? lo + 1 : lo)) {
                            lo = inside;
                            loEx = false;
                        }
                    } else {
                        long inside = (long) Math.floor(d);
                        if (hi == null || inside < (hiEx ? hi - 1 : hi)) {
                            hi = inside;
                            hiEx = false;
                        }
                    }
                    continue;
                } else {
                    throw new GuideException(path + "." + k + ": only whole-number bounds up to " + NumberRanges.MAX
                            + " are supported for numbers", k);
                }
                boolean exclusive = k.startsWith("exclusive");
                if (k.contains("inimum")) {
                    if (lo == null || bound > lo || (bound == lo && exclusive)) {
                        lo = bound;
                        loEx = exclusive;
                    }
                } else if (hi == null || bound < hi || (bound == hi && exclusive)) {
                    hi = bound;
                    hiEx = exclusive;
                }
            }
            return new Bounds(lo, loEx, hi, hiEx);
        }
    }

    private static int nonNegative(JsonNode s, String k, int fallback, String path) {
        JsonNode v = s.get(k);
        if (v == null) {
            return fallback;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0 || v.asInt() > 1000) {
            throw new GuideException(path + "." + k + " must be an integer from 0 to 1000", k);
        }
        return v.asInt();
    }

    /** The exact JSON text of a value, as compact JSON with Hangul and other non-ASCII text unescaped. */
    static Automaton literal(JsonNode v) {
        try {
            return BasicAutomata.makeString(JSON.writeValueAsString(v));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Automaton anyValue(int depth) {
        Automaton string = BasicAutomata.makeChar('"').concatenate(STRING_CHAR.repeat()).concatenate(BasicAutomata.makeChar('"'));
        Automaton number = BasicAutomata.makeChar('-').optional().concatenate(DIGITS_NO_LEADING_ZERO)
                .concatenate(FRACTION.optional());
        Automaton a = string.union(number).union(BasicAutomata.makeString("true")).union(BasicAutomata.makeString("false"))
                .union(BasicAutomata.makeString("null"));
        if (depth > 0) {
            a = a.union(anyObject(depth)).union(list('[', anyValue(depth - 1), 0, -1, ']'));
        }
        a.minimize();
        return a;
    }

    static Automaton anyObject(int depth) {
        Automaton key = BasicAutomata.makeChar('"').concatenate(STRING_CHAR.repeat()).concatenate(BasicAutomata.makeChar('"'));
        Automaton member = key.concatenate(BasicAutomata.makeChar(':')).concatenate(SEP).concatenate(anyValue(depth - 1));
        return list('{', member, 0, -1, '}');
    }

    static Automaton digit() {
        return BasicAutomata.makeCharRange('0', '9');
    }

    private static Automaton hexDigit() {
        return BasicAutomata.makeCharRange('0', '9').union(BasicAutomata.makeCharRange('a', 'f'))
                .union(BasicAutomata.makeCharRange('A', 'F'));
    }
}
