package ai.nuri.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Remote images only from allowed hosts, within the size limit, never through a redirect; file: never. */
class ImageSourceTest {
    @Test
    void allowedHostsAreFetchedWithinTheLimitsAndNothingElseIs() throws Exception {
        byte[] picture = new byte[600];
        new java.util.Random(1).nextBytes(picture);
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/ok.png", ex -> {
            ex.sendResponseHeaders(200, picture.length);
            ex.getResponseBody().write(picture);
            ex.close();
        });
        http.createContext("/moved.png", ex -> {
            ex.getResponseHeaders().add("Location", "http://169.254.169.254/latest/meta-data");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        http.createContext("/huge.png", ex -> {
            ex.sendResponseHeaders(200, 5000);
            ex.getResponseBody().write(new byte[5000]);
            ex.close();
        });
        http.start();
        String base = "http://127.0.0.1:" + http.getAddress().getPort();
        try {
            ImageSource allowed = new ImageSource(List.of("127.0.0.1"), 1000, Duration.ofSeconds(5));
            assertArrayEquals(picture, allowed.fetch(base + "/ok.png"));
            MediaException e = assertThrows(MediaException.class, () -> allowed.fetch(base + "/moved.png"));
            assertTrue(e.getMessage().contains("redirects are not followed"), e.getMessage());
            e = assertThrows(MediaException.class, () -> allowed.fetch(base + "/huge.png"));
            assertTrue(e.getMessage().contains("larger than 1000 bytes"), e.getMessage());
            e = assertThrows(MediaException.class, () -> allowed.fetch("file:///etc/passwd"));
            assertTrue(e.getMessage().contains("'file:' is not accepted"), e.getMessage());
            ImageSource other = new ImageSource(List.of("images.example.com"), 1000, Duration.ofSeconds(5));
            e = assertThrows(MediaException.class, () -> other.fetch(base + "/ok.png"));
            assertTrue(e.getMessage().contains("'127.0.0.1' is not"), e.getMessage());
            ImageSource none = new ImageSource(List.of(), 1000, Duration.ofSeconds(5));
            assertThrows(MediaException.class, () -> none.fetch(base + "/ok.png"));
            assertArrayEquals(new byte[] {1, 2, 3}, none.fetch("data:image/png;base64,AQID"));
        } finally {
            http.stop(0);
        }
    }
}
