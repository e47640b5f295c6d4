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
    private static final String TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|\\+((0[0-9]|1[0-7]):[0-5][0-9]|18:00)"
            + "|\\-(00:(0[1-9]|[1-5][0-9])|(0[1-9]|1[0-7]):[0-5][0-9]|18:00))"; // offsets as java.time takes them, not "-00:00"
    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    // Hyphens single and inside: "ab--cd" is reserved for IDN labels (as in "xn--"), which validators check.
    private static final String LABEL = "[a-z0-9]{1,20}(\\-[a-z0-9]{1,20}){0,2}";
    /** A label that starts with a letter: top-level labels, and mail domains (validators refuse some numeric ones). */
    private static final String ALPHA_LABEL = "[a-z][a-z0-9]{0,19}(\\-[a-z0-9]{1,20}){0,2}";
    /** Real top-level domains only: email validators check them against IANA's list. */
    private static final String TOP_LEVEL = "(kr|com|net|org|io|go\\.kr|co\\.kr|or\\.kr|ac\\.kr|re\\.kr)";
    private static final Map<String, String> REGEX = Map.of(
            "date-time", DATE + "T" + TIME,
            "date", DATE,
            "time", TIME,
            "uuid", "[0-9a-f]{8}\\-[0-9a-f]{4}\\-[0-9a-f]{4}\\-[0-9a-f]{4}\\-[0-9a-f]{12}",
            "ipv4", OCTET + "(\\." + OCTET + "){3}",
            // The last label starts with a letter: validators refuse an all-numeric top-level label.
            "hostname", "(" + LABEL + "\\.){0,4}" + ALPHA_LABEL,
            "email", "[a-z0-9]{1,32}([\\.\\-][a-z0-9]{1,32}){0,3}@" + ALPHA_LABEL + "(\\." + ALPHA_LABEL + "){0,2}\\." + TOP_LEVEL);

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
