package ai.nuri.http;

import java.time.Duration;
import java.util.List;

/**
 * HTTP-side settings. An empty {@code apiKeys} list leaves /v1 open; {@code rateLimitPerMinute}
 * 0 is unlimited; an empty {@code corsOrigins} sends no CORS headers; a zero
 * {@code requestTimeout} lets generations run as long as their max_tokens; a negative
 * {@code managementPort} keeps /health, /ready and /metrics on the main port, otherwise they move
 * to that port (0 picks a free one). The Responses API keeps up to {@code responseStoreSize} stored
 * responses, each for {@code responseStoreTtl}.
 */
public record ServerConfig(String host, int port, List<String> apiKeys, long bodyLimitBytes, int rateLimitPerMinute,
        List<String> corsOrigins, Duration drainTimeout, Duration requestTimeout, int managementPort,
        int responseStoreSize, Duration responseStoreTtl) {
    public static final int DEFAULT_RESPONSE_STORE_SIZE = 1000;
    public static final Duration DEFAULT_RESPONSE_STORE_TTL = Duration.ofHours(1);

    public ServerConfig(String host, int port, List<String> apiKeys, long bodyLimitBytes, int rateLimitPerMinute,
            List<String> corsOrigins, Duration drainTimeout, Duration requestTimeout, int managementPort) {
        this(host, port, apiKeys, bodyLimitBytes, rateLimitPerMinute, corsOrigins, drainTimeout, requestTimeout,
                managementPort, DEFAULT_RESPONSE_STORE_SIZE, DEFAULT_RESPONSE_STORE_TTL);
    }

    public ServerConfig(String host, int port, List<String> apiKeys, long bodyLimitBytes, int rateLimitPerMinute,
            List<String> corsOrigins, Duration drainTimeout, Duration requestTimeout) {
        this(host, port, apiKeys, bodyLimitBytes, rateLimitPerMinute, corsOrigins, drainTimeout, requestTimeout, -1);
    }

    public boolean separateManagementPort() {
        return managementPort >= 0;
    }

    public ServerConfig {
        apiKeys = List.copyOf(apiKeys);
        corsOrigins = List.copyOf(corsOrigins);
    }
}
