package ai.nuri.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A safetensors file opened for reading: the header is parsed and validated up front, tensor
 * bytes are memory-mapped one tensor at a time on demand. Nothing reads the whole file, and all
 * offsets are 64-bit, so files (and tensor offsets) past 2 GiB work. A single tensor is limited
 * to 2 GiB by Java's ByteBuffer; that is reported as an error, never a crash.
 *
 * <p>Format: 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each tensor
 * name to {dtype, shape, data_offsets:[begin,end]} (plus an optional "__metadata__" map of
 * strings), then the data section.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers larger than this are rejected, as the reference implementation does. */
    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) throws SafetensorsException {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new SafetensorsException(path, "cannot open: " + e.getMessage(), e);
        }
        try {
            return parse(path, channel);
        } catch (SafetensorsException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel channel) throws SafetensorsException {
        long fileSize;
        try {
            fileSize = channel.size();
            if (fileSize < 8) {
                throw new SafetensorsException(path, "truncated: " + fileSize + " bytes, too short for a header length");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, len, 0);
            long headerLength = len.flip().getLong();
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) {
                throw new SafetensorsException(path, "corrupt header: header length " + headerLength + " is not plausible");
            }
            if (8 + headerLength > fileSize) {
                throw new SafetensorsException(path, "truncated: header claims " + headerLength
                        + " bytes but the file has " + (fileSize - 8) + " after the length");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            String json = new String(header.array(), StandardCharsets.UTF_8);
            long dataStart = 8 + headerLength;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(path, json, metadata);
            long dataSize = fileSize - dataStart;
            for (TensorInfo t : tensors.values()) {
                if (t.end() > dataSize) {
                    throw new SafetensorsException(path, "truncated: tensor '" + t.name() + "' ends at byte " + t.end()
                            + " of the data section, which has only " + dataSize + " bytes");
                }
            }
            return new SafetensorsFile(path, channel, dataStart, Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            if (e instanceof SafetensorsException se) {
                throw se;
            }
            throw new SafetensorsException(path, "cannot read: " + e.getMessage(), e);
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, String json, Map<String, String> metadata)
            throws SafetensorsException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(path, "corrupt header: not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(path, "corrupt header: the header is not a JSON object");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode node = e.getValue();
            if (name.equals("__metadata__")) {
                node.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            tensors.put(name, parseTensor(path, name, node));
        }
        checkNoOverlap(path, tensors);
        return tensors;
    }

    private static TensorInfo parseTensor(Path path, String name, JsonNode node) throws SafetensorsException {
        String where = "corrupt header: tensor '" + name + "' ";
        if (!node.isObject() || !node.path("dtype").isTextual() || !node.path("shape").isArray()
                || !node.path("data_offsets").isArray() || node.path("data_offsets").size() != 2) {
            throw new SafetensorsException(path, where + "needs dtype, shape and two data_offsets");
        }
        SafetensorsDType dtype = SafetensorsDType.parse(node.get("dtype").asText());
        if (dtype == null) {
            throw new SafetensorsException(path, where + "has unknown dtype " + node.get("dtype").asText());
        }
        JsonNode shapeNode = node.get("shape");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!shapeNode.get(i).canConvertToLong() || shapeNode.get(i).asLong() < 0) {
                throw new SafetensorsException(path, where + "has a bad shape " + shapeNode);
            }
            shape[i] = shapeNode.get(i).asLong();
        }
        JsonNode offsets = node.get("data_offsets");
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin) {
            throw new SafetensorsException(path, where + "has bad data_offsets " + offsets);
        }
        TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
        long expected;
        try {
            expected = Math.multiplyExact(info.elementCount(), dtype.bytes());
        } catch (ArithmeticException overflow) {
            throw new SafetensorsException(path, where + "has a shape too large " + shapeNode);
        }
        if (expected != info.byteSize()) {
            throw new SafetensorsException(path, where + "has " + info.byteSize() + " bytes but " + dtype + shapeNode
                    + " needs " + expected);
        }
        return info;
    }

    private static void checkNoOverlap(Path path, Map<String, TensorInfo> tensors) throws SafetensorsException {
        TensorInfo[] sorted = tensors.values().stream()
                .sorted((a, b) -> Long.compare(a.begin(), b.begin())).toArray(TensorInfo[]::new);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i].begin() < sorted[i - 1].end()) {
                throw new SafetensorsException(path, "corrupt header: tensors '" + sorted[i - 1].name() + "' and '"
                        + sorted[i].name() + "' overlap");
            }
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(path + ": no tensor '" + name + "'");
        }
        return t;
    }

    /**
     * Maps one tensor's bytes (read-only, little-endian). Only this tensor's pages are touched. A
     * tensor over 2 GiB does not fit one buffer: read it in slices with {@link #map(String, long, long)}.
     */
    public ByteBuffer map(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        if (t.byteSize() > Integer.MAX_VALUE) {
            throw new SafetensorsException(path, "tensor '" + name + "' has " + t.byteSize()
                    + " bytes; a single tensor over 2 GiB is read in slices");
        }
        return map(name, 0, t.byteSize());
    }

    /** Maps {@code length} bytes of one tensor from byte {@code offset} of its data (at most 2 GiB at once). */
    public ByteBuffer map(String name, long offset, long length) throws SafetensorsException {
        TensorInfo t = info(name);
        if (offset < 0 || length < 0 || length > Integer.MAX_VALUE || offset + length > t.byteSize()) {
            throw new SafetensorsException(path, "tensor '" + name + "': bytes " + offset + "+" + length
                    + " are outside its " + t.byteSize());
        }
        if (length == 0) {
            return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + offset, length)
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new SafetensorsException(path, "cannot map tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    /**
     * Reads bytes of one tensor from byte {@code offset} of its data into {@code dst} (from its
     * position to its limit): for tensors read a slice at a time into one reused buffer, where
     * mapping each slice would keep every mapped slice resident until the garbage collector runs.
     */
    public void read(String name, long offset, ByteBuffer dst) throws SafetensorsException {
        TensorInfo t = info(name);
        if (offset < 0 || offset + dst.remaining() > t.byteSize()) {
            throw new SafetensorsException(path, "tensor '" + name + "': bytes " + offset + "+" + dst.remaining()
                    + " are outside its " + t.byteSize());
        }
        try {
            readFully(channel, dst, dataStart + t.begin() + offset);
        } catch (IOException e) {
            throw new SafetensorsException(path, "cannot read tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long pos = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += n;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing useful to do: the file was only read
        }
    }
}
