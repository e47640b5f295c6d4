package ai.nuri.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.nuri.model.safetensors.DTypeConversions;
import ai.nuri.model.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A BF16 tensor of more than 2 GiB (1.07 billion values, twice the 537 million that overflowed a
 * widened buffer before), written by the test into a real safetensors file, loads as FP32 with
 * every value right; a file cut short fails naming the file and the tensor.
 */
class LargeTensorLoadTest {
    static final long ROWS = 537_000_000L;
    static final long COLUMNS = 2;

    @TempDir
    Path dir;

    /** The value stored at flat index i: an integer in [-125, 125], exact in BF16. */
    static float value(long i) {
        return (float) (i % 251 - 125);
    }

    @Test
    void aBf16TensorOverTwoGibibytesLoadsWidened() throws IOException {
        Path file = dir.resolve("model.safetensors");
        long count = ROWS * COLUMNS;
        write(file, count, count * 2);
        try (SafetensorsFile f = SafetensorsFile.open(file); NDManager manager = NDManager.newBaseManager()) {
            assertTrue(f.info("embed").byteSize() > Integer.MAX_VALUE, "the tensor is over 2 GiB");
            NDArray loaded = CheckpointWeights.load(f, f.info("embed"), manager, DataType.FLOAT32);
            assertEquals(new Shape(ROWS, COLUMNS), loaded.getShape());
            assertEquals(DataType.FLOAT32, loaded.getDataType());
            // Every value, window by window: the load splits the tensor into 1 GiB windows, parts per
            // core and 8 MB reads, and a misplaced or skipped piece anywhere must show.
            try (NDArray flat = loaded.reshape(count)) {
                int window = 1 << 24;
                for (long start = 0; start < count; start += window) {
                    int n = (int) Math.min(window, count - start);
                    float[] got;
                    try (NDArray piece = flat.get(new NDIndex("{}:{}", start, start + n))) {
                        got = piece.toFloatArray();
                    }
                    for (int j = 0; j < n; j++) {
                        if (got[j] != value(start + j)) {
                            assertEquals(value(start + j), got[j], "flat index " + (start + j));
                        }
                    }
                }
            }
        }
    }

    @Test
    void aFileCutShortFailsNamingTheFileAndTheTensor() throws IOException {
        Path file = dir.resolve("cut.safetensors");
        long count = 40_000_000L; // 80 MB: sliced too
        write(file, count, count * 2 - 4096);
        var e = assertThrows(Exception.class, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(file); NDManager manager = NDManager.newBaseManager()) {
                CheckpointWeights.load(f, f.info("embed"), manager, DataType.FLOAT32);
            }
        });
        assertTrue(e.getMessage().contains(file.toString()) || e.getMessage().contains("cut.safetensors"), e.getMessage());
    }

    /** A safetensors file with one BF16 tensor "embed" of {@code count} values, of which {@code bytes} are written. */
    static void write(Path file, long count, long bytes) throws IOException {
        String header = "{\"embed\":{\"dtype\":\"BF16\",\"shape\":[" + (count / COLUMNS) + "," + COLUMNS + "],\"data_offsets\":[0,"
                + count * 2 + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer prefix = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(h.length).put(h).flip();
            out.write(prefix);
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 24).order(ByteOrder.LITTLE_ENDIAN);
            long written = 0;
            long i = 0;
            while (written < bytes) {
                chunk.clear();
                while (chunk.remaining() >= 2 && written + chunk.position() < bytes) {
                    chunk.putShort(DTypeConversions.floatToBf16(value(i++)));
                }
                chunk.flip();
                written += chunk.remaining();
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
            }
        }
        assertEquals(8 + h.length + bytes, Files.size(file));
    }
}
