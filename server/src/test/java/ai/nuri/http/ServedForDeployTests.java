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
