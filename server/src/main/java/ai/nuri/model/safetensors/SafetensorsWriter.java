package ai.nuri.model.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file: tensors are laid out in the order added, the header padded with
 * spaces to a multiple of 8 bytes as the reference implementation does.
 */
public final class SafetensorsWriter {
    private record Entry(String name, SafetensorsDType dtype, long[] shape, ByteBuffer data) {}

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata;

    public SafetensorsWriter(Map<String, String> metadata) {
        this.metadata = metadata;
    }

    public SafetensorsWriter() {
        this(Map.of("format", "pt"));
    }

    /** Adds a tensor; {@code data} holds its little-endian bytes (position to limit). */
    public SafetensorsWriter add(String name, SafetensorsDType dtype, long[] shape, ByteBuffer data) {
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        if (elements * dtype.bytes() != data.remaining()) {
            throw new IllegalArgumentException(name + ": " + data.remaining() + " bytes for " + elements + " x " + dtype);
        }
        entries.add(new Entry(name, dtype, shape.clone(), data.duplicate()));
        return this;
    }

    public SafetensorsWriter addFloats(String name, long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return add(name, SafetensorsDType.F32, shape, b);
    }

    /** Adds FP32 values rounded to BF16 (round to nearest even), as PyTorch's cast does. */
    public SafetensorsWriter addBf16(String name, long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putShort(DTypeConversions.floatToBf16(v));
        }
        return add(name, SafetensorsDType.BF16, shape, b.flip());
    }

    public void write(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name);
            t.put("dtype", e.dtype.name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape) {
                shape.add(d);
            }
            ArrayNode offsets = t.putArray("data_offsets");
            offsets.add(offset);
            offset += e.data.remaining();
            offsets.add(offset);
        }
        byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(headerBytes);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(out, head.flip());
            for (Entry e : entries) {
                writeFully(out, e.data.duplicate());
            }
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }
}
