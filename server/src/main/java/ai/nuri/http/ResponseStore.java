package ai.nuri.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The Responses API's stored responses, in memory: each response object with the conversation
 * that led to it (chat-format messages, its own output last), so a follow-up naming it as
 * {@code previous_response_id} continues from there. Bounded in count (oldest out first) and in
 * age; thread-safe.
 */
final class ResponseStore {
    /** A stored response and the conversation up to and including it. */
    record Entry(ObjectNode response, ArrayNode conversation, long storedNanos, long bytes) {}

    /**
     * Stored conversations grow with each follow-up (and may hold base64 images): besides the count, the
     * store keeps at most this many characters of JSON, dropping the oldest first.
     */
    static final long MAX_BYTES = 256L << 20;

    private final int capacity;
    private final long maxBytes = MAX_BYTES;
    private long bytes;
    private final long ttlNanos;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    ResponseStore(int capacity, Duration ttl) {
        this.capacity = capacity;
        this.ttlNanos = ttl.toNanos();
    }

    /** Takes ownership of both nodes (the caller must not change them after). */
    synchronized void put(String id, ObjectNode response, ArrayNode conversation) {
        Entry old = entries.remove(id);
        if (old != null) {
            bytes -= old.bytes();
        }
        Entry e = new Entry(response, conversation, System.nanoTime(), response.toString().length() + conversation.toString().length());
        entries.put(id, e);
        bytes += e.bytes();
        while (entries.size() > capacity || (bytes > maxBytes && entries.size() > 1)) {
            Iterator<Entry> oldest = entries.values().iterator();
            bytes -= oldest.next().bytes();
            oldest.remove();
        }
    }

    /** The entry, unless unknown, deleted or older than the time to live. */
    synchronized Optional<Entry> get(String id) {
        dropExpired();
        return Optional.ofNullable(entries.get(id));
    }

    synchronized boolean delete(String id) {
        dropExpired();
        Entry e = entries.remove(id);
        if (e != null) {
            bytes -= e.bytes();
        }
        return e != null;
    }

    synchronized int size() {
        dropExpired();
        return entries.size();
    }

    private void dropExpired() {
        long now = System.nanoTime();
        for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Entry e = it.next().getValue();
            if (now - e.storedNanos() > ttlNanos) {
                bytes -= e.bytes();
                it.remove();
            } else {
                break; // insertion order is age order
            }
        }
    }
}
