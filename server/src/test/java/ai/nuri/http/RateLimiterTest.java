package ai.nuri.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RateLimiterTest {
    @Test
    void aBucketAllowsItsBurstThenRefillsAtTheRate() {
        RateLimiter limiter = new RateLimiter(60); // one a second
        long t = 0;
        for (int i = 0; i < 60; i++) {
            assertEquals(0, limiter.acquire("k", t), "burst request " + i);
        }
        assertEquals(1, limiter.acquire("k", t), "empty: one second to the next token");
        assertEquals(0, limiter.acquire("k", t + 1_000_000_000L), "a second later, one more");
        assertEquals(0, limiter.acquire("other", t), "clients are separate");
    }

    @Test
    void idleClientsAreForgottenSoManyAddressesCannotGrowMemoryForever() {
        RateLimiter limiter = new RateLimiter(10);
        for (int i = 0; i <= RateLimiter.SWEEP_ABOVE + 5; i++) {
            limiter.acquire("10.0." + i, 0);
        }
        assertTrue(limiter.trackedClients() > RateLimiter.SWEEP_ABOVE);
        limiter.acquire("late", 61_000_000_000L);
        assertEquals(1, limiter.trackedClients(), "only the client active in the last minute remains");
    }
}
