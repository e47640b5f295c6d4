package ai.nuri.http;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The served models by id (their folder names). */
public final class ModelRegistry {
    private final Map<String, ServedModel> models = new LinkedHashMap<>();

    public ModelRegistry(List<ServedModel> served) {
        served.forEach(m -> models.put(m.id(), m));
    }

    /** The named model; with no name, the only model if exactly one is served. */
    ServedModel resolve(String id) {
        if (id == null) {
            if (models.size() == 1) {
                return models.values().iterator().next();
            }
            throw ApiException.badRequest("'model' is required", "model");
        }
        ServedModel m = models.get(id);
        if (m == null) {
            throw ApiException.modelNotFound(id);
        }
        return m;
    }

    public Collection<ServedModel> all() {
        return models.values();
    }
}
