package ai.nuri.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Files;
import java.nio.file.Path;

/** Process-wide settings shared by the commands. */
final class Runtime {
    private Runtime() {}

    /**
     * Never download anything at run time: libtorch and its JNI come from the classpath. DJL reads
     * this property as well as the DJL_OFFLINE variable.
     */
    static void offline() {
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
    }

    /** $NURI_MODEL_STORE, else ./model-store. */
    static Path defaultModelStore() {
        String env = System.getenv("NURI_MODEL_STORE");
        return Path.of(env != null && !env.isBlank() ? env : "model-store");
    }

    static Path defaultModel() {
        return defaultModelStore().resolve("nuri-ko-mini");
    }

    static Path requireFolder(Path path) {
        if (!Files.isDirectory(path)) {
            throw new IllegalArgumentException(path + " is not a model folder");
        }
        return path;
    }

    /** cpu or cuda:N; anything else, or a GPU this machine does not have, is a one-line error. */
    static Device device(String name) {
        if (name.equals("cpu")) {
            return Device.cpu();
        }
        if (!name.matches("cuda:\\d+")) {
            throw new IllegalArgumentException("--device must be cpu or cuda:N (for example cuda:0), not '" + name + "'");
        }
        int index = Integer.parseInt(name.substring(5));
        int gpus = ai.djl.engine.Engine.getInstance().getGpuCount();
        if (index >= gpus) {
            throw new IllegalArgumentException("--device " + name + ": this machine has " + (gpus == 0 ? "no CUDA GPU"
                    : gpus + " CUDA GPU(s)") + " that libtorch can use; use --device cpu");
        }
        return Device.gpu(index);
    }

    static DataType dtype(String name) {
        return switch (name) {
            case "float32" -> DataType.FLOAT32;
            case "float16" -> DataType.FLOAT16;
            default -> throw new IllegalArgumentException("dtype must be float32 or float16, not " + name);
        };
    }
}
