package ai.nuri.engine;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Recent image encodings by image key, least recently used first out: the same picture sent
 * again (a follow-up question about it) skips the vision tower. Engine thread only.
 */
final class ImageEncodingCache {
    private final int capacity;
    private final LinkedHashMap<String, float[]> entries = new LinkedHashMap<>(16, 0.75f, true);

    ImageEncodingCache(int capacity) {
        this.capacity = capacity;
    }

    float[] get(String key) {
        return capacity == 0 ? null : entries.get(key);
    }

    void put(String key, float[] features) {
        if (capacity == 0) {
            return;
        }
        entries.put(key, features);
        if (entries.size() > capacity) {
            Map.Entry<String, float[]> eldest = entries.entrySet().iterator().next();
            entries.remove(eldest.getKey());
        }
    }

    int size() {
        return entries.size();
    }
}
