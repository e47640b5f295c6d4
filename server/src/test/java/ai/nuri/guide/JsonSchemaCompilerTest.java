package ai.nuri.guide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.ValidationMessage;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import dk.brics.automaton.Transition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The compiled language against a well-kept JSON Schema validator (networknt, format assertions
 * on): every text sampled from the automaton of a random schema parses and validates, and values
 * made from the schema by a separate generator are accepted.
 */
class JsonSchemaCompilerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Set<ValidationMessage> validate(JsonNode schema, String text) throws Exception {
        return RandomSchemas.validate(schema, text);
    }

    /** A random text of the language: a random walk that heads for an accepting state once long enough. */
    static String sample(Automaton a, SplittableRandom r) {
        Map<State, Integer> toAccept = distances(a);
        StringBuilder sb = new StringBuilder();
        State s = a.getInitialState();
        while (true) {
            boolean hurry = sb.length() > 40;
            if (s.isAccept() && (s.getTransitions().isEmpty() || r.nextInt(hurry ? 1 : 4) == 0)) {
                return sb.toString();
            }
            List<Transition> options = new ArrayList<>();
            for (Transition t : s.getTransitions()) {
                Integer d = toAccept.get(t.getDest());
                if (d != null && (!hurry || d < toAccept.get(s))) {
                    options.add(t);
                }
            }
            Transition t = options.get(r.nextInt(options.size()));
            char c = (char) (t.getMin() + r.nextInt(t.getMax() - t.getMin() + 1));
            sb.append(c);
            s = t.getDest();
        }
    }

    /** Shortest number of chars from each state to an accepting one (states that cannot accept are absent). */
    static Map<State, Integer> distances(Automaton a) {
        Map<State, Integer> d = new HashMap<>();
        Set<State> states = a.getStates();
        for (State s : states) {
            if (s.isAccept()) {
                d.put(s, 0);
            }
        }
        boolean changed = true;
        while (changed) {
            changed = false;
            for (State s : states) {
                for (Transition t : s.getTransitions()) {
                    Integer next = d.get(t.getDest());
                    if (next != null && (d.get(s) == null || d.get(s) > next + 1)) {
                        d.put(s, next + 1);
                        changed = true;
                    }
                }
            }
        }
        return d;
    }

    @Test
    void everyTextOfRandomSchemasParsesAndValidates() throws Exception {
        SplittableRandom schemas = new SplittableRandom(2026); // apart from r, whose use depends on hash order
        SplittableRandom r = new SplittableRandom(2027);
        int texts = 0;
        for (int seed = 0; seed < 60; seed++) {
            ObjectNode defs = JSON.createObjectNode();
            ObjectNode schema = RandomSchemas.schema(schemas, 3, defs);
            if (!defs.isEmpty()) {
                schema.set("$defs", defs);
            }
            Automaton a = JsonSchemaCompiler.automaton(schema);
            a.determinize();
            for (int k = 0; k < 15; k++) {
                String text = sample(a, r);
                Set<ValidationMessage> errors = validate(schema, text);
                assertTrue(errors.isEmpty(), schema + "\n" + text + "\n" + errors);
                texts++;
            }
        }
        assertEquals(900, texts);
    }

    @Test
    void everyFormatsTextsPassTheValidatorsFormatCheck() throws Exception {
        SplittableRandom r = new SplittableRandom(8);
        for (String format : List.of("date-time", "date", "time", "uuid", "email", "ipv4", "hostname")) {
            JsonNode schema = JSON.readTree("{\"type\":\"string\",\"format\":\"" + format + "\"}");
            Automaton a = JsonSchemaCompiler.automaton(schema);
            a.determinize();
            for (int i = 0; i < 1000; i++) {
                String text = sample(a, r);
                assertTrue(validate(schema, text).isEmpty(), format + ": " + text + " " + validate(schema, text));
            }
        }
    }

    @Test
    void valuesThatFitAreAccepted() throws Exception {
        String schema = """
                {"type":"object","properties":{
                  "이름":{"type":"string"},
                  "나이":{"type":"integer","minimum":0,"maximum":150},
                  "키":{"type":"number","exclusiveMinimum":0,"maximum":300},
                  "주소":{"anyOf":[{"$ref":"#/$defs/addr"},{"type":"null"}]},
                  "태그":{"type":"array","items":{"type":"string","enum":["가","나"]},"maxItems":3},
                  "생일":{"type":"string","format":"date"}},
                 "required":["이름","나이"],"additionalProperties":false,
                 "$defs":{"addr":{"type":"object","properties":{"시":{"type":"string"}},"required":["시"]}}}""";
        Automaton a = JsonSchemaCompiler.automaton(JSON.readTree(schema));
        for (String ok : List.of(
                "{\"이름\":\"김민수\",\"나이\":30}",
                "{\"이름\": \"\\\"따옴표\\\" \\u001f\", \"나이\": 0, \"키\": 172.5}",
                "{\"이름\":\"a\",\"나이\":150,\"키\":300,\"주소\":{\"시\":\"서울\"},\"태그\":[\"가\",\"나\"],\"생일\":\"2024-02-28\"}",
                "{\"이름\":\"a\",\"나이\":1,\"키\":0.001,\"주소\":null,\"태그\":[]}")) {
            assertTrue(validate(JSON.readTree(schema), ok).isEmpty(), "the validator agrees: " + ok);
            assertTrue(a.run(ok), ok);
        }
        for (String bad : List.of(
                "{\"나이\":30}", // required missing
                "{\"이름\":\"a\",\"나이\":151}",
                "{\"이름\":\"a\",\"나이\":1.5}",
                "{\"이름\":\"a\",\"나이\":1,\"키\":0}",
                "{\"이름\":\"a\",\"나이\":1,\"키\":300.5}",
                "{\"이름\":\"a\",\"나이\":1,\"태그\":[\"가\",\"가\",\"가\",\"가\"]}",
                "{\"이름\":\"a\",\"나이\":1,\"생일\":\"2024-02-30\"}",
                "{\"이름\":\"a\",\"나이\":1,\"extra\":1}")) {
            assertFalse(validate(JSON.readTree(schema), bad).isEmpty(), "the validator refuses: " + bad);
            assertFalse(a.run(bad), bad);
        }
        assertFalse(a.run("{\"이름\":\"a\",\"나이\":01}"), "no leading zeros (not JSON)");
        assertFalse(a.run("{\"이름\":\"\\uae40\",\"나이\":1}"), "Hangul is written as it is, never as \\u escapes");
    }

    @Test
    void integerAndDecimalRangesAgreeWithArithmetic() {
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 40; trial++) {
            long lo = r.nextInt(-1200, 1200);
            long hi = lo + r.nextInt(0, 2500);
            Automaton ints = NumberRanges.integers(lo, hi);
            for (long x = lo - 30; x <= hi + 30; x += 1 + r.nextInt(7)) {
                assertEquals(x >= lo && x <= hi, ints.run(Long.toString(x)), "[" + lo + "," + hi + "] " + x);
            }
            boolean loEx = r.nextBoolean();
            boolean hiEx = r.nextBoolean();
            Automaton decimals = NumberRanges.decimals(lo, loEx, hi, hiEx);
            for (int k = 0; k < 200; k++) {
                java.math.BigDecimal v = java.math.BigDecimal.valueOf(r.nextLong(lo - 5, hi + 5))
                        .add(k % 3 == 0 ? java.math.BigDecimal.ZERO : java.math.BigDecimal.valueOf(r.nextInt(1000), 3));
                String text = v.toPlainString();
                boolean inside = (loEx ? v.compareTo(java.math.BigDecimal.valueOf(lo)) > 0 : v.compareTo(java.math.BigDecimal.valueOf(lo)) >= 0)
                        && (hiEx ? v.compareTo(java.math.BigDecimal.valueOf(hi)) < 0 : v.compareTo(java.math.BigDecimal.valueOf(hi)) <= 0);
                if (text.startsWith("-0") && v.signum() == 0) {
                    continue;
                }
                assertEquals(inside, decimals.run(text), (loEx ? "(" : "[") + lo + "," + hi + (hiEx ? ")" : "]") + " " + text);
            }
        }
    }

    @Test
    void keywordsOutsideTheSubsetAreRefusedByName() {
        for (String[] c : new String[][] {
            {"{\"type\":\"string\",\"contentEncoding\":\"base64\"}", "contentEncoding"},
            {"{\"type\":\"array\",\"uniqueItems\":true}", "uniqueItems"},
            {"{\"type\":\"object\",\"patternProperties\":{}}", "patternProperties"},
            {"{\"type\":\"number\",\"minimum\":0.5}", "minimum"},
            {"{\"type\":\"string\",\"format\":\"ipv6\"}", "format"},
            {"{\"type\":\"string\",\"pattern\":\"(?=a)b\"}", "pattern"},
            {"{\"type\":\"object\",\"properties\":{\"a\":{}},\"required\":[\"b\"]}", "required"},
            {"{\"oneOf\":[{\"type\":\"string\"}]}", "oneOf"},
            {"{\"$ref\":\"#/$defs/missing\"}", "$ref"},
            {"{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}", "minimum"},
            {"{\"pattern\":\"a\",\"minimum\":1}", "minimum"},
            {"{\"enum\":[\"a\"],\"maxLength\":3}", "maxLength"},
        }) {
            GuideException e = assertThrows(GuideException.class, () -> JsonSchemaCompiler.automaton(JSON.readTree(c[0])), c[0]);
            assertEquals(c[1], e.keyword(), c[0] + ": " + e.getMessage());
        }
    }

    @Test
    void aSchemaTooLargeToEnforceIsRefusedQuicklyAndALargeOneThatFitsCompiles() throws Exception {
        long t0 = System.nanoTime();
        JsonNode big = JSON.readTree("{\"type\":\"object\",\"properties\":{" + java.util.stream.IntStream.range(0, 50)
                .mapToObj(i -> "\"p" + i + "\":{\"type\":\"string\",\"maxLength\":1000}").collect(java.util.stream.Collectors.joining(","))
                + "}}");
        GuideException e = assertThrows(GuideException.class, () -> JsonSchemaCompiler.automaton(big));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        assertTrue((System.nanoTime() - t0) / 1e9 < 5, "refused in " + (System.nanoTime() - t0) / 1e9 + " s");
        assertThrows(GuideException.class, () -> JsonSchemaCompiler.automaton(JSON.readTree(
                "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"maxLength\":100},\"maxItems\":1000}")));
        assertTrue(JsonSchemaCompiler.automaton(JSON.readTree("{\"type\":\"string\",\"maxLength\":500}")).run("\"가나다\""));
    }

    @Test
    void theTighterOfWholeAndFractionalBoundsWinsAndTypelessKeywordsApply() throws Exception {
        Automaton a = JsonSchemaCompiler.automaton(JSON.readTree("{\"type\":\"integer\",\"minimum\":5,\"exclusiveMinimum\":2.5,\"maximum\":7.5}"));
        for (int x = 0; x < 10; x++) {
            assertEquals(x >= 5 && x <= 7, a.run(Integer.toString(x)), "integer " + x);
        }
        Automaton typeless = JsonSchemaCompiler.automaton(JSON.readTree("{\"pattern\":\"^[0-9]{3}$\"}"));
        assertTrue(typeless.run("\"123\""));
        assertFalse(typeless.run("\"12a\""), "pattern applies without a type (as a validator applies it to strings)");
        Automaton escaped = JsonSchemaCompiler.automaton(JSON.readTree("{\"$defs\":{\"a/b\":{\"const\":1}},\"$ref\":\"#/$defs/a~1b\"}"));
        assertTrue(escaped.run("1"), "~1 in a reference is '/' in the name");
    }

    @Test
    void recursiveSchemasAreUnrolledAndStillValidate() throws Exception {
        JsonNode schema = JSON.readTree("""
                {"$defs":{"node":{"type":"object","properties":{"값":{"type":"integer","minimum":0,"maximum":9},
                  "자식":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["값"]}},
                 "$ref":"#/$defs/node"}""");
        Automaton a = JsonSchemaCompiler.automaton(schema);
        assertTrue(a.run("{\"값\":1,\"자식\":[{\"값\":2,\"자식\":[]}]}"));
        SplittableRandom r = new SplittableRandom(3);
        a.determinize();
        for (int i = 0; i < 50; i++) {
            String t = sample(a, r);
            assertTrue(validate(schema, t).isEmpty(), t);
        }
    }
}
