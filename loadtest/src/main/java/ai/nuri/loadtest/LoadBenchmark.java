package ai.nuri.loadtest;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.nuri.model.CheckpointWeights;
import ai.nuri.model.safetensors.DTypeConversions;
import ai.nuri.model.safetensors.SafetensorsFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Loading one large BF16 tensor as FP32 (an embedding of {@code rows} × {@code columns}; default
 * 256,000 × 3,072, a 4B Nemotron's): load speed from a warm page cache, and the process's peak
 * resident memory over its resident memory before the load, against the loaded tensor's size; and
 * the machine's bound on it: filling as much fresh memory with zeros.
 *
 * <pre>java -cp "loadtest/target/nuri-loadtest.jar:server/target/nuri-server.jar" ai.nuri.loadtest.LoadBenchmark [rows] [columns]</pre>
 */
public final class LoadBenchmark {
    public static void main(String[] args) throws Exception {
        long rows = args.length > 0 ? Long.parseLong(args[0]) : 256_000;
        long columns = args.length > 1 ? Long.parseLong(args[1]) : 3_072;
        Path file = Files.createTempFile("nuri-load", ".safetensors");
        try {
            write(file, rows, columns);
            try (SafetensorsFile f = SafetensorsFile.open(file)) { // warm the page cache, as a second start finds it
                ByteBuffer scratch = ByteBuffer.allocateDirect(64 << 20);
                for (long at = 0; at < f.info("embed").byteSize(); at += scratch.capacity()) {
                    scratch.clear().limit((int) Math.min(scratch.capacity(), f.info("embed").byteSize() - at));
                    f.read("embed", at, scratch);
                }
            }
            try (NDManager warm = NDManager.newBaseManager()) {
                warm.ones(new ai.djl.ndarray.types.Shape(4)).sum(); // libtorch loaded before the baseline
            }
            long before = residentBytes("VmRSS");
            long start = System.nanoTime();
            try (SafetensorsFile f = SafetensorsFile.open(file); NDManager manager = NDManager.newBaseManager()) {
                NDArray loaded = CheckpointWeights.load(f, f.info("embed"), manager, DataType.FLOAT32);
                double seconds = (System.nanoTime() - start) / 1e9;
                long peak = residentBytes("VmHWM");
                long sourceBytes = rows * columns * 2;
                long loadedBytes = loaded.size() * 4;
                System.out.printf("tensor %d x %d BF16: %.2f GB on disk, %.2f GB as FP32%n", rows, columns, sourceBytes / 1e9,
                        loadedBytes / 1e9);
                System.out.printf("load: %.2f s, %.2f GB/s of checkpoint read%n", seconds, sourceBytes / 1e9 / seconds);
                System.out.printf("peak resident memory over the baseline: %.2f GB = %.2fx the loaded tensor%n",
                        (peak - before) / 1e9, (peak - before) / (double) loadedBytes);
                loaded.close();
            }
            // The machine's own bound: writing as many bytes into memory the process has never
            // touched (libtorch's zeros, on all cores), where the kernel maps and clears each page.
            try (NDManager manager = NDManager.newBaseManager()) {
                long at = System.nanoTime();
                manager.zeros(new ai.djl.ndarray.types.Shape(rows, columns), DataType.FLOAT32).close();
                double seconds = (System.nanoTime() - at) / 1e9;
                System.out.printf("limit: zeros of the same FP32 size in fresh memory %.2f s, %.2f GB/s of FP32 written"
                        + " (= %.2f GB/s of BF16 read, were nothing else done)%n", seconds, rows * columns * 4 / 1e9 / seconds,
                        rows * columns * 2 / 1e9 / seconds);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    static long residentBytes(String field) throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }

    static void write(Path file, long rows, long columns) throws java.io.IOException {
        long count = rows * columns;
        byte[] h = ("{\"embed\":{\"dtype\":\"BF16\",\"shape\":[" + rows + "," + columns + "],\"data_offsets\":[0," + count * 2 + "]}}")
                .getBytes(StandardCharsets.UTF_8);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            out.write(ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).flip());
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 24).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < count; ) {
                chunk.clear();
                while (chunk.remaining() >= 2 && i < count) {
                    chunk.putShort(DTypeConversions.floatToBf16((float) (i++ % 251 - 125)));
                }
                chunk.flip();
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
            }
        }
    }
}
