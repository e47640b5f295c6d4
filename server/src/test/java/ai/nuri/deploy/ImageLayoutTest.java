package ai.nuri.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;

/**
 * The images' layout without Docker (the build machines have no engine): each Dockerfile is read
 * for what a read-only, non-root container needs, and the step the images run at build time
 * (engine-info into an empty DJL cache) is run here, after which a server on that cache, offline,
 * answers a chat request and writes nothing: not into the cache, not into its home folder.
 */
class ImageLayoutTest {
    /** One build stage: its name and its instructions, continuation lines joined. */
    record Stage(String name, String base, List<String> lines) {
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            Pattern pair = Pattern.compile("([A-Z_]+)=(\\S+)");
            for (String l : lines) {
                if (l.startsWith("ENV ")) {
                    Matcher m = pair.matcher(l);
                    while (m.find()) {
                        env.put(m.group(1), m.group(2));
                    }
                }
            }
            return env;
        }
    }

    static List<Stage> stages(String dockerfile) throws IOException {
        String text = Files.readString(Tools.DEPLOY.resolve("docker").resolve(dockerfile)).replaceAll("\\\\\n", " ");
        List<Stage> stages = new ArrayList<>();
        for (String line : text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList()) {
            if (line.startsWith("FROM ")) {
                String[] parts = line.split("\\s+");
                stages.add(new Stage(parts.length > 3 ? parts[3] : "", parts[1], new ArrayList<>()));
            } else if (!stages.isEmpty()) {
                stages.get(stages.size() - 1).lines().add(line);
            }
        }
        return stages;
    }

    @Test
    void bothImagesUnpackEveryNativeLibraryAtBuildTimeAndRunReadOnlyAsNonRoot() throws IOException {
        for (String dockerfile : List.of("Dockerfile", "Dockerfile.cpu")) {
            List<Stage> stages = stages(dockerfile);
            Stage last = stages.get(stages.size() - 1);
            Map<String, String> env = last.env();
            assertEquals("true", env.get("DJL_OFFLINE"), dockerfile + ": the container never downloads");
            String cache = env.get("DJL_CACHE_DIR");
            assertNotNull(cache, dockerfile + ": the DJL cache is a fixed folder of the image");
            String user = last.lines().stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElseThrow()
                    .substring(5).split(":")[0];
            assertTrue(Integer.parseInt(user) > 0, dockerfile + ": runs as a non-root uid");
            // The cache comes from the stage that ran engine-info into it, with the same flavor.
            Pattern copy = Pattern.compile("COPY --from=(\\S+) " + Pattern.quote(cache) + " " + Pattern.quote(cache));
            String from = last.lines().stream().map(copy::matcher).filter(Matcher::find).map(m -> m.group(1))
                    .findFirst().orElseThrow(() -> new AssertionError(dockerfile + ": copies " + cache + " from a build stage"));
            Stage builder = stages.stream().filter(s -> s.name().equals(from)).findFirst().orElseThrow();
            String unpack = builder.lines().stream().filter(l -> l.startsWith("RUN ") && l.contains("engine-info"))
                    .findFirst().orElseThrow(() -> new AssertionError(dockerfile + ": stage " + from + " runs engine-info"));
            Map<String, String> buildEnv = new TreeMap<>(stages.stream().filter(s -> s.name().equals(from)
                    || s.name().equals(builder.base())).flatMap(s -> s.env().entrySet().stream())
                    .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> b)));
            Matcher inline = Pattern.compile("DJL_CACHE_DIR=(\\S+)").matcher(unpack);
            String unpackedInto = inline.find() ? inline.group(1) : buildEnv.get("DJL_CACHE_DIR");
            assertEquals(cache, unpackedInto, dockerfile + ": engine-info unpacks into the folder the container reads");
            assertEquals(env.getOrDefault("PYTORCH_FLAVOR", "cpu"), buildEnv.getOrDefault("PYTORCH_FLAVOR", "cpu"),
                    dockerfile + ": the libtorch unpacked is the one the container asks for");
            assertTrue(unpack.contains("a-w"), dockerfile + ": the cache is made read-only, so a write would fail loudly");
        }
    }

    @Test
    void aServerOnTheUnpackedCacheAnswersOfflineAndWritesNothing(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("djl");
        Path home = Files.createDirectories(dir.resolve("home"));
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Map<String, String> env = Map.of("DJL_CACHE_DIR", cache.toString(), "DJL_OFFLINE", "true", "HOME", home.toString());
        Process unpack = nuri(env, tmp, "engine-info");
        String printed = new String(unpack.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(unpack.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, unpack.exitValue(), printed);
        assertTrue(printed.contains("tokenizers=loaded") && printed.contains("engine=PyTorch"), printed);
        Map<String, Long> built = tree(cache);
        assertTrue(built.keySet().stream().anyMatch(p -> p.endsWith("libtokenizers.so")), "tokenizers unpacked: " + built.keySet());
        assertTrue(built.keySet().stream().anyMatch(p -> p.endsWith("libtorch_cpu.so")), "libtorch unpacked: " + built.keySet());
        long homeBefore = tree(home).size();

        Path store = Path.of(System.getProperty("nuri.modelStore", "../model-store")).toAbsolutePath();
        Process server = nuri(env, tmp, "serve", "--port", "0", "--model-store", store.toString(), "--models", "nuri-ko-mini");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            Pattern listening = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)");
            int port = -1;
            String line;
            StringBuilder log = new StringBuilder();
            while (port < 0 && (line = out.readLine()) != null) {
                log.append(line).append('\n');
                Matcher m = listening.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            assertTrue(port > 0, "the server started on the unpacked cache:\n" + log);
            CompletableFuture.runAsync(() -> out.lines().forEach(l -> { }));
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/v1/chat/completions")).timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"nuri-ko-mini\",\"max_tokens\":8,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"안녕하세요.\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
        } finally {
            server.destroy();
            server.waitFor(60, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
        assertEquals(built, tree(cache), "serving wrote nothing into the DJL cache");
        assertEquals(homeBefore, tree(home).size(), "nor into the home folder");
    }

    private static Process nuri(Map<String, String> env, Path tmp, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"),
                "ai.nuri.cli.NuriCli"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Every file under a folder with its size and modification time, to see that nothing changed. */
    private static Map<String, Long> tree(Path root) throws IOException {
        Map<String, Long> files = new TreeMap<>();
        if (!Files.exists(root)) {
            return files;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                files.put(root.relativize(p).toString(), Files.isRegularFile(p)
                        ? Files.size(p) * 31 + Files.getLastModifiedTime(p).toMillis() : -1);
            }
        }
        return files;
    }
}
