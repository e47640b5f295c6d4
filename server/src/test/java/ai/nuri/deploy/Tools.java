package ai.nuri.deploy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real tools the deploy tests check against (kubectl, promtool) and returns their output. */
final class Tools {
    static final Path DEPLOY = Path.of(System.getProperty("nuri.modelStore", "../model-store")).toAbsolutePath()
            .getParent().resolve("deploy");

    private Tools() {}

    record Result(int exitCode, String output) {}

    static Result run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).directory(DEPLOY.toFile()).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(command + " timed out");
        }
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    }
}
