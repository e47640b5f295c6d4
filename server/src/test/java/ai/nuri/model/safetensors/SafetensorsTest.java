package ai.nuri.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.CheckpointWeights;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private static ByteBuffer bytes(int n, int seed) {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.put((byte) (i * 31 + seed));
        }
        return b.flip();
    }

    @Test
    void everyDtypeRoundTripsByteForByte() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        for (SafetensorsDType t : SafetensorsDType.values()) {
            w.add("t_" + t, t, new long[] {2, 3}, bytes(6 * t.bytes(), t.ordinal()));
        }
        w.add("scalar", SafetensorsDType.F32, new long[] {}, bytes(4, 99));
        w.add("empty", SafetensorsDType.F32, new long[] {0, 5}, ByteBuffer.allocate(0));
        Path file = dir.resolve("all.safetensors");
        w.write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals("pt", f.metadata().get("format"));
            for (SafetensorsDType t : SafetensorsDType.values()) {
                TensorInfo info = f.info("t_" + t);
                assertEquals(t, info.dtype());
                assertArrayEquals(new long[] {2, 3}, info.shape());
                ByteBuffer read = f.map("t_" + t);
                assertEquals(bytes(6 * t.bytes(), t.ordinal()), read, t.toString());
            }
            assertEquals(0, f.info("scalar").shape().length);
            assertEquals(0, f.map("empty").remaining());
        }
    }

    @Test
    void loadsValuesOfEachNumericTypeIntoNdArrays() throws IOException {
        ByteBuffer f16 = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        f16.putShort((short) 0x3E00).putShort((short) 0xC040).putShort((short) 0x0000).flip(); // 1.5, -2.125, 0
        ByteBuffer bf16 = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        bf16.putShort((short) 0x3FC0).putShort((short) 0xC100).putShort((short) 0x7F80).flip(); // 1.5, -8, +inf
        ByteBuffer i64 = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        i64.putLong(-1).putLong(1L << 40).putLong(7).flip();
        ByteBuffer f64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        f64.putDouble(0.1).putDouble(-3).flip();
        Path file = dir.resolve("v.safetensors");
        new SafetensorsWriter().add("f16", SafetensorsDType.F16, new long[] {3}, f16)
                .add("bf16", SafetensorsDType.BF16, new long[] {3}, bf16)
                .add("i64", SafetensorsDType.I64, new long[] {3}, i64)
                .add("f64", SafetensorsDType.F64, new long[] {2}, f64)
                .addFloats("f32", new long[] {2, 2}, new float[] {1, -2, 3.25f, 4})
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file); NDManager m = NDManager.newBaseManager()) {
            assertArrayEquals(new float[] {1.5f, -2.125f, 0}, load(f, "f16", m, DataType.FLOAT32).toFloatArray());
            NDArray widened = load(f, "bf16", m, null);
            assertEquals(DataType.FLOAT32, widened.getDataType(), "BF16 must be widened, never created");
            assertArrayEquals(new float[] {1.5f, -8f, Float.POSITIVE_INFINITY}, widened.toFloatArray());
            assertArrayEquals(new long[] {-1, 1L << 40, 7}, load(f, "i64", m, null).toLongArray());
            assertArrayEquals(new double[] {0.1, -3}, load(f, "f64", m, null).toDoubleArray());
            NDArray half = load(f, "f32", m, DataType.FLOAT16);
            assertEquals(DataType.FLOAT16, half.getDataType());
            assertArrayEquals(new float[] {1, -2, 3.25f, 4}, half.toType(DataType.FLOAT32, false).toFloatArray());
        }
    }

    private static NDArray load(SafetensorsFile f, String name, NDManager m, DataType target) throws IOException {
        return CheckpointWeights.load(f, f.info(name), m, target);
    }

    @Test
    void bf16RoundingIsNearestEven() {
        assertEquals((short) 0x3F80, DTypeConversions.floatToBf16(1.0f));
        // 1 + 2^-8 is exactly halfway between two BF16 values: ties to the even one (1.0).
        assertEquals((short) 0x3F80, DTypeConversions.floatToBf16(Float.intBitsToFloat(0x3F808000)));
        // Just above halfway rounds up.
        assertEquals((short) 0x3F81, DTypeConversions.floatToBf16(Float.intBitsToFloat(0x3F808001)));
        assertEquals(-2.5f, DTypeConversions.bf16ToFloat(DTypeConversions.floatToBf16(-2.5f)));
    }

    @Test
    void readsATensorWhoseOffsetIsPast2GiBInASparseFile() throws IOException {
        long big = (5L << 29); // 2.5 GiB
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[" + big + "," + (big + 12) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("sparse.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
            raf.write(len.array());
            raf.write(h);
            long dataStart = 8 + h.length;
            raf.setLength(dataStart + big + 12); // a hole: no 2.5 GiB written to disk
            raf.seek(dataStart + big);
            ByteBuffer x = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.25f).putFloat(-7f).putFloat(3e8f);
            raf.write(x.array());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file); NDManager m = NDManager.newBaseManager()) {
            assertArrayEquals(new float[] {1.25f, -7f, 3e8f}, load(f, "x", m, null).toFloatArray());
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.map("pad"));
            assertTrue(e.getMessage().contains("over 2 GiB"), e.getMessage());
        }
    }

    private Path raw(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    private Path withHeader(String name, String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return raw(name, b.array());
    }

    private void assertCorrupt(Path file, String expected) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file));
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void eachCorruptFileGivesAClearError() throws IOException {
        assertCorrupt(raw("short.safetensors", new byte[] {1, 2, 3}), "too short");
        ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE);
        assertCorrupt(raw("huge.safetensors", huge.array()), "not plausible");
        ByteBuffer past = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100);
        assertCorrupt(raw("past.safetensors", past.array()), "truncated");
        assertCorrupt(withHeader("json.safetensors", "{\"a\": [", 0), "not valid JSON");
        assertCorrupt(withHeader("array.safetensors", "[1, 2]", 0), "not a JSON object");
        assertCorrupt(withHeader("nodtype.safetensors", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "needs dtype");
        assertCorrupt(withHeader("dtype.safetensors", "{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "unknown dtype Q4");
        assertCorrupt(withHeader("size.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8),
                "needs 8");
        assertCorrupt(withHeader("trunc.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
                "truncated");
        assertCorrupt(withHeader("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "overlap");
        assertCorrupt(withHeader("neg.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
                "bad shape");
        assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(dir.resolve("absent.safetensors")));
    }
}
