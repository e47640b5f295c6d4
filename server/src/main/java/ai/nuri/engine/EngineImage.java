package ai.nuri.engine;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One preprocessed image of a request: [3 * height * width] floats, channels first, and a key
 * that identifies its content (SHA-256 of the pixels), by which the engine reuses an encoding and
 * keeps one image's cached keys and values from ever serving another.
 */
public record EngineImage(float[] pixels, int height, int width, String key) {
    public EngineImage {
        if (pixels.length != 3 * height * width) {
            throw new IllegalArgumentException("an image of " + width + "x" + height + " needs " + 3 * height * width
                    + " values, not " + pixels.length);
        }
    }

    public EngineImage(float[] pixels, int height, int width) {
        this(pixels, height, width, sha256(pixels));
    }

    private static String sha256(float[] pixels) {
        ByteBuffer bytes = ByteBuffer.allocate(pixels.length * 4);
        bytes.asFloatBuffer().put(pixels);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** 64 bits of the key, mixed into prefix-cache block hashes. */
    long keyBits() {
        return Long.parseUnsignedLong(key.substring(0, 16), 16);
    }
}
