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
        ShortBuffer in = bf16.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        int n = in.remaining();
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            out.putInt(i * 4, (in.get(i) & 0xFFFF) << 16);
        }
        return out;
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
