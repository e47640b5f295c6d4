package ai.nuri.model.safetensors;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header: its type, shape and byte range inside the data
 * section (offsets relative to the end of the header, 64-bit so files past 2 GiB work).
 */
public record TensorInfo(String name, SafetensorsDType dtype, long[] shape, long begin, long end) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long byteSize() {
        return end - begin;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
