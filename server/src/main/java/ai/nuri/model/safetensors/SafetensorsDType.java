package ai.nuri.model.safetensors;

import java.util.Locale;

/** The element types of the safetensors format, with their width in bytes. */
public enum SafetensorsDType {
    BOOL(1), U8(1), I8(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4), I64(8), U64(8), F64(8),
    F8_E4M3(1), F8_E5M2(1);

    private final int bytes;

    SafetensorsDType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloatingPoint() {
        return this == F16 || this == BF16 || this == F32 || this == F64 || this == F8_E4M3 || this == F8_E5M2;
    }

    /** Parses a header dtype string; null if the format has no such type. */
    static SafetensorsDType parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
