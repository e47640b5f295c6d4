package ai.nuri.http;

import java.time.Duration;
import java.util.List;

/**
 * HTTP-side settings. An empty {@code apiKeys} list leaves /v1 open; {@code rateLimitPerMinute}
 * 0 is unlimited; an empty {@code corsOrigins} sends no CORS headers.
 */
public record ServerConfig(String host, int port, List<String> apiKeys, long bodyLimitBytes, int rateLimitPerMinute,
        List<String> corsOrigins, Duration drainTimeout) {
    public ServerConfig {
        apiKeys = List.copyOf(apiKeys);
        corsOrigins = List.copyOf(corsOrigins);
    }
}
