package ai.nuri.fuzz;

import ai.nuri.model.safetensors.SafetensorsException;
import ai.nuri.model.safetensors.SafetensorsFile;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whatever a .safetensors file holds, opening it and mapping its tensors fails only with SafetensorsException. */
class SafetensorsHeaderFuzz {
    static final Path FILE = tempFile();

    private static Path tempFile() {
        try {
            Path f = Files.createTempFile("fuzz", ".safetensors");
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @FuzzTest(maxDuration = Fuzzing.BUDGET)
    @DictionaryEntries({"{\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"BF16\"", "\"F16\"", "\"I64\"",
            "\"__metadata__\"", "[0,", "]}", "1e309", "-1", "9223372036854775807"})
    void openAndMap(byte[] header) throws IOException {
        // A plausible length prefix before the fuzzed header, so the fuzzer spends its time on the JSON.
        ByteBuffer file = ByteBuffer.allocate(8 + header.length + 64).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(header.length).put(header);
        Files.write(FILE, file.array());
        try (SafetensorsFile f = SafetensorsFile.open(FILE)) {
            for (String name : f.tensors().keySet()) {
                f.map(name);
            }
        } catch (SafetensorsException expected) {
            // a clear error naming the file: what bad input may produce
        }
        Files.write(FILE, header); // and with the fuzzer's own length prefix
        try (SafetensorsFile f = SafetensorsFile.open(FILE)) {
            for (String name : f.tensors().keySet()) {
                f.map(name);
            }
        } catch (SafetensorsException expected) {
            // as above
        }
    }
}
