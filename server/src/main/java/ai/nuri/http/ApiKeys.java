package ai.nuri.http;

import java.util.List;

/** The API key file's format: one key per line; blank lines and lines starting with '#' are ignored. */
public final class ApiKeys {
    private ApiKeys() {}

    public static List<String> parse(String fileContent) {
        return fileContent.lines().map(String::strip).filter(s -> !s.isEmpty() && !s.startsWith("#")).toList();
    }
}
