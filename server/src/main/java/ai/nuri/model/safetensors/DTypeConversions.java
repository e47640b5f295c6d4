package ai.nuri.model.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

/**
 * Bit-level conversions done in Java. BF16 is widened here because DJL 0.35's PyTorch engine
 * aborts the JVM on any BFLOAT16 NDArray: a BF16 value is the top 16 bits of an FP32 value, so
 * widening is exact.
 */
public final class DTypeConversions {
    private DTypeConversions() {}

    /** Widens little-endian BF16 bytes to a direct FP32 buffer (exact). */
    public static ByteBuffer bf16ToFloat32(ByteBuffer bf16) {
        int n = bf16.remaining() / 2;
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        bf16ToFloat32(bf16, out, n);
        return out;
    }

    /**
     * Widens {@code count} little-endian BF16 values from {@code bf16} (at its position) into
     * {@code out} (a native-order buffer with room for {@code count} floats, from 0), through small
     * arrays so that the loop is one the JIT vectorizes.
     */
    public static void bf16ToFloat32(ByteBuffer bf16, ByteBuffer out, int count) {
        ShortBuffer in = bf16.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        java.nio.IntBuffer dst = out.duplicate().order(ByteOrder.nativeOrder()).asIntBuffer();
        short[] shorts = new short[8192];
        int[] ints = new int[8192];
        for (int done = 0; done < count; ) {
            int n = Math.min(shorts.length, count - done);
            in.get(shorts, 0, n);
            for (int i = 0; i < n; i++) {
                ints[i] = (shorts[i] & 0xFFFF) << 16;
            }
            dst.put(ints, 0, n);
            done += n;
        }
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** FP32 to BF16 with round-to-nearest-even; NaN stays NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
