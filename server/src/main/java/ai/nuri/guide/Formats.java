package ai.nuri.guide;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.RegExp;
import java.util.Map;

/**
 * String formats of JSON Schema as regular languages over the decoded string. Dates are real
 * calendar dates except February 29 (a regular language cannot tell leap years cheaply).
 */
final class Formats {
    private static final String DATE = "[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
            + "|02-(0[1-9]|1[0-9]|2[0-8]))";
    private static final String TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[\\+\\-]([01][0-9]|2[0-3]):[0-5][0-9])";
    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    private static final String LABEL = "[a-z0-9]([a-z0-9\\-]{0,30}[a-z0-9])?";
    private static final Map<String, String> REGEX = Map.of(
            "date-time", DATE + "T" + TIME,
            "date", DATE,
            "time", TIME,
            "uuid", "[0-9a-f]{8}\\-[0-9a-f]{4}\\-[0-9a-f]{4}\\-[0-9a-f]{4}\\-[0-9a-f]{12}",
            "ipv4", OCTET + "(\\." + OCTET + "){3}",
            "hostname", LABEL + "(\\." + LABEL + "){0,4}",
            "email", "[a-z0-9]{1,32}([\\._\\-][a-z0-9]{1,32}){0,3}@" + LABEL + "(\\." + LABEL + "){0,3}\\.[a-z]{2,8}");

    private Formats() {}

    static Automaton of(String format, String path) {
        String regex = REGEX.get(format);
        if (regex == null) {
            throw new GuideException(path + ".format '" + format + "' is not supported (supported: "
                    + String.join(", ", new java.util.TreeSet<>(REGEX.keySet())) + ")", "format");
        }
        return new RegExp(regex, RegExp.NONE).toAutomaton();
    }
}
