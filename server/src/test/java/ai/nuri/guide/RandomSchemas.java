package ai.nuri.guide;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.SplittableRandom;

/** Random JSON schemas of the supported subset, for tests that compile and generate many of them. */
public final class RandomSchemas {
    public static final ObjectMapper JSON = new ObjectMapper();

    static final com.networknt.schema.JsonSchemaFactory FACTORY =
            com.networknt.schema.JsonSchemaFactory.getInstance(com.networknt.schema.SpecVersion.VersionFlag.V202012);
    static final com.networknt.schema.SchemaValidatorsConfig CONFIG =
            com.networknt.schema.SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();

    private RandomSchemas() {}

    /** What a well-kept JSON Schema validator (networknt, formats asserted) finds wrong with {@code text}; throws if it is not JSON. */
    public static java.util.Set<com.networknt.schema.ValidationMessage> validate(com.fasterxml.jackson.databind.JsonNode schema,
            String text) throws java.io.IOException {
        return FACTORY.getSchema(schema, CONFIG).validate(JSON.readTree(text));
    }

    /** A random schema of the supported subset, bounded so that random texts end. */
    public static ObjectNode schema(SplittableRandom r, int depth, ObjectNode defs) {
        ObjectNode s = JSON.createObjectNode();
        int kind = depth <= 0 ? 2 + r.nextInt(6) : r.nextInt(9);
        switch (kind) {
            case 0, 1 -> {
                s.put("type", "object");
                ObjectNode props = s.putObject("properties");
                ArrayNode required = JSON.createArrayNode();
                int n = 1 + r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    String name = r.nextBoolean() ? "이름" + i : "field_" + i;
                    props.set(name, schema(r, depth - 1, defs));
                    if (r.nextInt(3) > 0) {
                        required.add(name);
                    }
                }
                s.set("required", required);
                s.put("additionalProperties", false);
            }
            case 2 -> {
                s.put("type", "string");
                switch (r.nextInt(5)) {
                    case 0 -> s.putArray("enum").add("서울").add("부산").add("a\"b");
                    case 1 -> s.put("pattern", "^[가-힣]{1,4}(시|군)$");
                    case 2 -> s.put("format", List.of("date", "date-time", "time", "uuid", "email", "ipv4", "hostname")
                            .get(r.nextInt(7)));
                    case 3 -> s.put("pattern", "^\\d{3}-\\d{4}$");
                    default -> {
                        s.put("minLength", r.nextInt(3));
                        s.put("maxLength", 3 + r.nextInt(5));
                    }
                }
            }
            case 3 -> {
                s.put("type", "integer");
                long lo = r.nextInt(-500, 500);
                if (r.nextBoolean()) {
                    s.put("minimum", lo);
                } else {
                    s.put("exclusiveMinimum", lo);
                }
                s.put(r.nextBoolean() ? "maximum" : "exclusiveMaximum", lo + 2 + r.nextInt(3000));
            }
            case 4 -> {
                s.put("type", "number");
                long lo = r.nextInt(-50, 50);
                s.put(r.nextBoolean() ? "minimum" : "exclusiveMinimum", lo);
                s.put(r.nextBoolean() ? "maximum" : "exclusiveMaximum", lo + 1 + r.nextInt(100));
            }
            case 5 -> s.put("type", "boolean");
            case 6 -> s.putArray("type").add("integer").add("null");
            case 7 -> {
                s.put("type", "array");
                s.set("items", schema(r, depth - 1, defs));
                int min = r.nextInt(3);
                s.put("minItems", min);
                s.put("maxItems", min + r.nextInt(3));
            }
            default -> {
                if (r.nextBoolean()) {
                    ArrayNode any = s.putArray("anyOf");
                    any.add(schema(r, depth - 1, defs));
                    any.add(schema(r, depth - 1, defs));
                } else {
                    String name = "d" + defs.size();
                    defs.putNull(name); // reserved first, so that a definition made inside it gets another name
                    defs.set(name, schema(r, depth - 1, defs));
                    s.put("$ref", "#/$defs/" + name);
                }
            }
        }
        if (r.nextInt(4) == 0) {
            s.put("description", "설명");
        }
        return s;
    }


    /** A random schema with its $defs attached. */
    public static ObjectNode schema(SplittableRandom r, int depth) {
        ObjectNode defs = JSON.createObjectNode();
        ObjectNode s = schema(r, depth, defs);
        if (!defs.isEmpty()) {
            s.set("$defs", defs);
        }
        return s;
    }
}
