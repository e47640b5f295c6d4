package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.engine.EngineConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Public-service defaults: request ids, an access log without citizens' text, key rotation, TLS. */
class AccessAndPrivacyTest {
    static final EngineConfig ENGINE = new EngineConfig(8, 512, 256, 16, 16, 512);
    static final String SECRET_QUESTION = "주민등록번호 알려줘";

    @TempDir
    Path dir;

    @Test
    void everyResponseCarriesItsRequestIdAndTheAccessLogKeepsNoText() throws Exception {
        for (boolean logPrompts : new boolean[] {false, true}) {
            String log = captureStderr(() -> {
                try (TestServer s = new TestServer(TestServer.DEMO, ENGINE,
                        TestServer.config(List.of(), 0).withAccess(null, null, null, logPrompts), m -> m)) {
                    HttpResponse<String> answered = s.post("/v1/chat/completions", TestServer.chatBody(SECRET_QUESTION,
                            "\"max_tokens\":5"), "x-request-id", "client-id-42");
                    assertEquals(200, answered.statusCode());
                    assertEquals("client-id-42", answered.headers().firstValue("x-request-id").orElseThrow(), "echoed");
                    HttpResponse<String> missing = s.get("/v1/nothing-here");
                    assertEquals(404, missing.statusCode());
                    assertTrue(missing.headers().firstValue("x-request-id").orElseThrow().matches("req_[0-9a-f]{24}"),
                            "an error gets an id too");
                    HttpResponse<String> hostile = s.post("/v1/chat/completions", "{", "x-request-id", "x".repeat(200));
                    assertTrue(hostile.headers().firstValue("x-request-id").orElseThrow().startsWith("req_"),
                            "an unusable client id is replaced");
                    Thread.sleep(200); // the end handler logs after the last byte went out
                }
            });
            String line = log.lines().filter(l -> l.contains("id=client-id-42")).findFirst()
                    .orElseThrow(() -> new AssertionError("no access line for the request:\n" + log));
            for (String field : List.of("method=POST", "route=/v1/chat/completions", "status=200", "model=nuri-ko-mini",
                    "prompt_tokens=", "completion_tokens=5", "latency_ms=", "client=127.0.0.1")) {
                assertTrue(line.contains(field), field + " in " + line);
            }
            assertTrue(log.contains("route=\"/v1/nothing-here\" status=404"), log);
            assertEquals(logPrompts, line.contains(SECRET_QUESTION), "the question is logged only with --log-prompts: " + line);
            assertEquals(logPrompts, line.contains(" completion=\""), line);
        }
    }

    @Test
    void apiKeysReloadFromTheirFileWithoutARestart() throws Exception {
        Path keys = dir.resolve("keys");
        Files.writeString(keys, "# rotated monthly\nsk-old\n");
        try (TestServer s = new TestServer(TestServer.DEMO, ENGINE,
                TestServer.config(List.of("sk-old"), 0).withAccess(keys, null, null, false), m -> m)) {
            assertEquals(200, models(s, "sk-old"));
            assertEquals(401, models(s, "sk-new"));
            Files.writeString(keys, "sk-new\n");
            assertTrue(eventually(() -> models(s, "sk-new") == 200), "the new key works within seconds");
            assertEquals(401, models(s, "sk-old"), "the revoked key does not");
            Files.writeString(keys, "\n# emptied by mistake\n");
            Thread.sleep(3000);
            assertEquals(200, models(s, "sk-new"), "an empty file does not open the API or lock everyone out");
            Files.delete(keys);
            Thread.sleep(3000);
            assertEquals(200, models(s, "sk-new"), "nor does a missing one");
            assertEquals(401, models(s, ""));
        }
    }

    @Test
    void tlsFromPemFiles() throws Exception {
        Path store = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "nuri", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass", "changeit").redirectErrorStream(true).start();
        assertEquals(0, keytool.waitFor(), new String(keytool.getInputStream().readAllBytes()));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            ks.load(in, "changeit".toCharArray());
        }
        Path cert = dir.resolve("tls.crt");
        Path key = dir.resolve("tls.key");
        Files.writeString(cert, pem("CERTIFICATE", ks.getCertificate("nuri").getEncoded()));
        Files.writeString(key, pem("PRIVATE KEY", ks.getKey("nuri", "changeit".toCharArray()).getEncoded()));
        try (TestServer s = new TestServer(TestServer.DEMO, ENGINE,
                TestServer.config(List.of(), 0).withAccess(null, cert, key, false), m -> m)) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("nuri", ks.getCertificate("nuri"));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            HttpClient https = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + s.port + "/v1/models"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("nuri-ko-mini"));
            assertFalse(eventuallyPlainWorks(s), "plain HTTP is not served on the TLS port");
        }
    }

    private static boolean eventuallyPlainWorks(TestServer s) {
        try {
            return s.get("/v1/models").statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static int models(TestServer s, String key) throws Exception {
        return s.http.send(HttpRequest.newBuilder(URI.create(s.url("/v1/models"))).header("Authorization", "Bearer " + key)
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static boolean eventually(Check check) throws Exception {
        return eventually(check, Duration.ofSeconds(10));
    }

    static boolean eventually(Check check, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (check.ok()) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    interface Body {
        void run() throws Exception;
    }

    /** What the server logged (slf4j-simple writes to System.err, looked up on every line) while {@code body} ran. */
    static String captureStderr(Body body) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
