package ai.nuri.guide;

import com.fasterxml.jackson.databind.JsonNode;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.BasicAutomata;
import java.util.List;

/** The constraints a request can ask for, compiled to grammars. Each throws {@link GuideException} for what it cannot compile. */
public final class Constraints {
    private Constraints() {}

    /** JSON that fits {@code schema}. */
    public static Grammar jsonSchema(JsonNode schema, String name) {
        return JsonSchemaCompiler.compile(schema, name);
    }

    /** Any JSON object. */
    public static Grammar jsonObject() {
        return JsonSchemaCompiler.anyObject();
    }

    /** Text that as a whole matches {@code regex} (ECMA syntax). */
    public static Grammar regex(String regex) {
        return Grammar.of(EcmaRegex.fullMatch(regex, "regex"), "regex");
    }

    /** Exactly one of {@code options}. */
    public static Grammar choice(List<String> options) {
        if (options.isEmpty()) {
            throw new GuideException("'choice' must list at least one option", "choice");
        }
        Automaton a = BasicAutomata.makeEmpty();
        for (String o : options) {
            a = a.union(BasicAutomata.makeString(o));
        }
        return Grammar.of(a, "choice");
    }

    /** One of several JSON values, each between literal text: prefix, then JSON fitting the schema, then suffix. */
    public record Wrapped(String prefix, JsonNode schema, String suffix) {}

    /**
     * One to {@code maxCount} of the {@code alternatives}, separated by {@code separator}: how a
     * forced tool call is constrained to the model's own call format.
     */
    public static Grammar sequenceOf(List<Wrapped> alternatives, String separator, int maxCount, String description) {
        Automaton one = BasicAutomata.makeEmpty();
        for (Wrapped w : alternatives) {
            Automaton value = w.schema() == null ? JsonSchemaCompiler.anyObject(JsonSchemaCompiler.ANY_VALUE_DEPTH)
                    : JsonSchemaCompiler.automaton(w.schema());
            one = one.union(BasicAutomata.makeString(w.prefix()).concatenate(value)
                    .concatenate(BasicAutomata.makeString(w.suffix())));
        }
        one.minimize();
        Automaton more = BasicAutomata.makeString(separator).concatenate(one);
        return Grammar.of(one.concatenate(more.repeat(0, maxCount - 1)), description);
    }
}
