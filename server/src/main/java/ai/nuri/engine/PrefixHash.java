package ai.nuri.engine;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * The prefix cache's block keys: SHA-256 over a secret drawn once per process, the previous
 * block's key and this block's position keys, cut to 64 bits. The cache is shared by every
 * client; a fixed, invertible hash would let one craft a prompt whose key collides with another
 * user's (vLLM's CVE-2025-25183). Without the secret no key can be aimed at, and a hit compares
 * the block's contents as well.
 */
final class PrefixHash {
    private static final byte[] SECRET = secret();
    /** One digest per thread (the engine thread, in practice): MessageDigest is not thread-safe. */
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    });

    private PrefixHash() {}

    private static byte[] secret() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        return secret;
    }

    static long chain(long previous, long[] keys) {
        ByteBuffer input = ByteBuffer.allocate(8 + 8 * keys.length);
        input.putLong(previous);
        for (long k : keys) {
            input.putLong(k);
        }
        MessageDigest sha = SHA256.get();
        sha.update(SECRET);
        byte[] digest = sha.digest(input.array());
        return ByteBuffer.wrap(digest).getLong();
    }
}
