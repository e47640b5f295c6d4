package ai.nuri.http;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per client (API key, or address without keys): {@code perMinute} requests a
 * minute, bursting to that many. Buckets of clients idle for a minute are full again and carry no
 * state, so they are dropped once many clients have been seen: memory stays bounded by the
 * clients active in the last minute.
 */
final class RateLimiter {
    static final int SWEEP_ABOVE = 10_000;

    private final int perMinute;
    private final ConcurrentHashMap<String, double[]> buckets = new ConcurrentHashMap<>();

    RateLimiter(int perMinute) {
        this.perMinute = perMinute;
    }

    int trackedClients() {
        return buckets.size();
    }

    boolean enabled() {
        return perMinute > 0;
    }

    /** Takes one token; returns 0 if allowed, else the seconds until one is available. */
    int acquire(String client, long nowNanos) {
        if (buckets.size() > SWEEP_ABOVE) {
            buckets.values().removeIf(b -> {
                synchronized (b) {
                    return nowNanos - b[1] >= 60_000_000_000L;
                }
            });
        }
        double[] bucket = buckets.computeIfAbsent(client, k -> new double[] {perMinute, nowNanos});
        synchronized (bucket) {
            double refill = (nowNanos - bucket[1]) / 1e9 * perMinute / 60.0;
            bucket[0] = Math.min(perMinute, bucket[0] + refill);
            bucket[1] = nowNanos;
            if (bucket[0] >= 1) {
                bucket[0] -= 1;
                return 0;
            }
            return (int) Math.ceil((1 - bucket[0]) * 60.0 / perMinute);
        }
    }
}
