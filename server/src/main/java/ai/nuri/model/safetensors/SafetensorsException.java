package ai.nuri.model.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file that cannot be read; the message names the file and what is wrong. */
public class SafetensorsException extends IOException {
    public SafetensorsException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public SafetensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
