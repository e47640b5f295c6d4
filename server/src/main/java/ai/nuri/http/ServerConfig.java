package ai.nuri.http;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * HTTP-side settings. An empty {@code apiKeys} list leaves /v1 open; {@code rateLimitPerMinute}
 * 0 is unlimited; an empty {@code corsOrigins} sends no CORS headers; a zero
 * {@code requestTimeout} lets generations run as long as their max_tokens; a negative
 * {@code managementPort} keeps /health, /ready and /metrics on the main port, otherwise they move
 * to that port (0 picks a free one). The Responses API keeps up to {@code responseStoreSize} stored
 * responses, each for {@code responseStoreTtl}.
 *
 * <p>{@code apiKeysFile}, when set, is where {@code apiKeys} came from: it is read again when it
 * changes. {@code tlsCertFile} and {@code tlsKeyFile} (PEM) turn on HTTPS for the API port.
 * {@code logPrompts} puts prompt and completion text in the access log. A connection idle for
 * {@code idleTimeout} (no byte either way) is closed.
 */
public record ServerConfig(String host, int port, List<String> apiKeys, long bodyLimitBytes, int rateLimitPerMinute,
        List<String> corsOrigins, Duration drainTimeout, Duration requestTimeout, int managementPort,
        int responseStoreSize, Duration responseStoreTtl, Path apiKeysFile, Path tlsCertFile, Path tlsKeyFile,
        boolean logPrompts, Duration idleTimeout) {
    public static final int DEFAULT_RESPONSE_STORE_SIZE = 1000;
    public static final Duration DEFAULT_RESPONSE_STORE_TTL = Duration.ofHours(1);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    public ServerConfig(String host, int port, List<String> apiKeys, long bodyLimitBytes, int rateLimitPerMinute,
            List<String> corsOrigins, Duration drainTimeout, Duration requestTimeout, int managementPort,
            int responseStoreSize, Duration responseStoreTtl) {
        this(host, port, apiKeys, bodyLimitBytes, rateLimitPerMinute, corsOrigins, drainTimeout, requestTimeout,
                managementPort, responseStoreSize, responseStoreTtl, null, null, null, false, DEFAULT_IDLE_TIMEOUT);
    }

    /** With keys read from (and reloaded from) {@code file}, TLS from PEM files (both null: plain HTTP), prompt logging. */
    public ServerConfig withAccess(Path file, Path certFile, Path keyFile, boolean logPromptText) {
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("TLS needs both a certificate file and a key file");
        }
        return new ServerConfig(host, port, apiKeys, bodyLimitBytes, rateLimitPerMinute, corsOrigins, drainTimeout,
                requestTimeout, managementPort, responseStoreSize, responseStoreTtl, file, certFile, keyFile, logPromptText,
                idleTimeout);
    }

    public ServerConfig withIdleTimeout(Duration timeout) {
        return new ServerConfig(host, port, apiKeys, bodyLimitBytes, rateLimitPerMinute, corsOrigins, drainTimeout,
                requestTimeout, managementPort, responseStoreSize, responseStoreTtl, apiKeysFile, tlsCertFile, tlsKeyFile,
                logPrompts, timeout);
    }

    public boolean tls() {
        return tlsCertFile != null;
    }

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
