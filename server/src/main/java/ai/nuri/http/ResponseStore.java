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
    record Entry(ObjectNode response, ArrayNode conversation, long storedNanos) {}

    private final int capacity;
    private final long ttlNanos;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    ResponseStore(int capacity, Duration ttl) {
        this.capacity = capacity;
        this.ttlNanos = ttl.toNanos();
    }

    synchronized void put(String id, ObjectNode response, ArrayNode conversation) {
        entries.remove(id);
        entries.put(id, new Entry(response.deepCopy(), conversation.deepCopy(), System.nanoTime()));
        while (entries.size() > capacity) {
            Iterator<String> oldest = entries.keySet().iterator();
            oldest.next();
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
        return entries.remove(id) != null;
    }

    synchronized int size() {
        dropExpired();
        return entries.size();
    }

    private void dropExpired() {
        long now = System.nanoTime();
        for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            if (now - it.next().getValue().storedNanos() > ttlNanos) {
                it.remove();
            } else {
                break; // insertion order is age order
            }
        }
    }
}
