package ai.nuri.http;

import java.time.Duration;
import java.util.List;

/**
 * HTTP-side settings. An empty {@code apiKeys} list leaves /v1 open; {@code rateLimitPerMinute}
 * 0 is unlimited; an empty {@code corsOrigins} sends no CORS headers; a zero
 * {@code requestTimeout} lets generations run as long as their max_tokens.
 */
public record ServerConfig(String host, int port, List<String> apiKeys, long bodyLimitBytes, int rateLimitPerMinute,
        List<String> corsOrigins, Duration drainTimeout, Duration requestTimeout) {
    public ServerConfig {
        apiKeys = List.copyOf(apiKeys);
        corsOrigins = List.copyOf(corsOrigins);
    }
}
