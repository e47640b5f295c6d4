package ai.nuri.loadtest.tool;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake OpenAI-compatible server on raw sockets with scripted timing: after {@code ttftMs} the
 * first content chunk, then {@code chunks - 1} more every {@code gapMs}, a usage chunk and [DONE].
 * Request number n (from 0) can be made to fail: every {@code status503Every}-th answers 503, every
 * {@code resetEvery}-th has its connection reset (TCP RST) after the headers.
 */
final class ScriptedServer implements AutoCloseable {
    final ServerSocket socket;
    final AtomicInteger requests = new AtomicInteger();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final long ttftMs;
    private final long gapMs;
    private final int chunks;
    private final int status503Every;
    private final int resetEvery;

    ScriptedServer(long ttftMs, long gapMs, int chunks, int status503Every, int resetEvery) throws IOException {
        this.ttftMs = ttftMs;
        this.gapMs = gapMs;
        this.chunks = chunks;
        this.status503Every = status503Every;
        this.resetEvery = resetEvery;
        this.socket = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        threads.submit(this::accept);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                threads.submit(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line;
            int length = 0;
            String requestLine = in.readLine();
            while ((line = in.readLine()) != null && !line.isEmpty()) {
                if (line.toLowerCase().startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            char[] body = new char[length];
            int read = 0;
            while (read < length) { // bytes and chars agree for the ASCII bodies the tests send... or near enough to drain
                int r = in.read(body, read, length - read);
                if (r < 0 || !in.ready()) {
                    break;
                }
                read += r;
            }
            OutputStream out = s.getOutputStream();
            if (requestLine != null && requestLine.startsWith("GET /v1/models")) {
                write(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 41\r\nConnection: close\r\n\r\n"
                        + "{\"data\":[{\"id\":\"scripted\",\"object\":\"m\"}]}");
                return;
            }
            int n = requests.getAndIncrement();
            if (status503Every > 0 && n % status503Every == status503Every - 1) {
                write(out, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n");
                return;
            }
            write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
            if (resetEvery > 0 && n % resetEvery == resetEvery - 1) {
                s.setSoLinger(true, 0); // close with RST
                return;
            }
            Thread.sleep(ttftMs);
            write(out, "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n");
            for (int i = 0; i < chunks; i++) {
                if (i > 0) {
                    Thread.sleep(gapMs);
                }
                write(out, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"토큰" + i + "\"}}]}\n\n");
            }
            write(out, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":" + chunks + "}}\n\n");
            write(out, "data: [DONE]\n\n");
        } catch (IOException | InterruptedException e) {
            // the client went away: nothing to do
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
        threads.shutdownNow();
    }
}
