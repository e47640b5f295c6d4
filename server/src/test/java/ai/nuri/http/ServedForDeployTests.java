package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

/** Lets the deploy tests check manifests against a live server (TestServer is package-private). */
public final class ServedForDeployTests {
    private ServedForDeployTests() {}

    /** Each path answers 200 on a real server (probe paths must be real routes). */
    public static void assertRoutesAnswer200(List<String> paths) throws Exception {
        try (TestServer s = new TestServer()) {
            for (String path : paths) {
                assertEquals(200, s.get(path).statusCode(), "GET " + path);
            }
        }
    }

    /**
     * On a real server with an API key and a separate management port, as the Deployment runs it:
     * each path answers 200 on the management port without a key, and /v1 wants the key.
     */
    public static void assertManagementRoutesAnswer200(List<String> paths) throws Exception {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, List.of("sk-deploy"), 1 << 20, 0, List.of(),
                java.time.Duration.ofSeconds(5), java.time.Duration.ZERO, 0);
        try (TestServer s = new TestServer(new ai.nuri.engine.EngineConfig(8, 512, 256, 16, 16, 512), config)) {
            for (String path : paths) {
                var r = s.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        "http://127.0.0.1:" + s.server.managementPort() + path)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), "GET " + path + " on the management port");
            }
            assertEquals(401, s.get("/v1/models").statusCode(), "the API wants a key");
        }
    }

    /** Each metric name appears in a real server's exposition. */
    public static void assertExported(List<String> names) throws Exception {
        try (TestServer s = new TestServer()) {
            String scrape = s.get("/metrics").body();
            for (String name : names) {
                assertTrue(scrape.contains("\n" + name), "the server exports " + name);
            }
        }
    }

    /** A running server for tests outside this package; close it when done. */
    public static AutoCloseable start(int[] portOut) throws Exception {
        TestServer s = new TestServer();
        portOut[0] = s.port;
        return s;
    }
}
