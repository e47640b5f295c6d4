package ai.nuri.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks rendered manifests against the Kubernetes schema, offline (there is no API server in CI).
 *
 * <p>Built-in kinds: fabric8's model classes are generated from the Kubernetes OpenAPI schema;
 * parsing into them checks every value's type, and a field the schema does not have lands in an
 * {@code additionalProperties} map, which this walk reports with its path (what
 * {@code kubectl apply --validate=strict} would refuse).
 *
 * <p>Custom kinds: validated by JSON Schema against the {@code openAPIV3Schema} of the upstream
 * CRD that defines them (src/test/resources/k8s-crds, with their sources), made strict the same
 * way: an object schema that lists its properties admits no others unless it says
 * {@code x-kubernetes-preserve-unknown-fields}. A kind with neither is an error.
 */
final class ManifestSchemas {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final KubernetesSerialization K8S = new KubernetesSerialization();
    private static final List<String> CRDS = List.of("keda.sh_scaledobjects.yaml", "monitoring.coreos.com_servicemonitors.yaml");

    private ManifestSchemas() {}

    /** Every problem found in the objects, each naming the object and the path; empty when valid. */
    static List<String> problems(List<HasMetadata> objects) throws IOException {
        List<String> problems = new ArrayList<>();
        for (HasMetadata o : objects) {
            String name = o.getKind() + "/" + o.getMetadata().getName();
            if (o instanceof GenericKubernetesResource custom) {
                JsonSchema schema = crdSchema(custom.getApiVersion(), custom.getKind());
                if (schema == null) {
                    problems.add(name + ": no schema known for " + custom.getApiVersion() + " " + custom.getKind());
                    continue;
                }
                JsonNode json = YAML.readTree(K8S.asJson(custom));
                schema.validate(json).forEach(m -> problems.add(name + ": " + m.getMessage()));
            } else {
                unknownFields(o, name, problems, new IdentityHashMap<>());
            }
        }
        return problems;
    }

    /** Walks a fabric8 model object, reporting fields the typed schema had no place for. */
    private static void unknownFields(Object o, String path, List<String> out, IdentityHashMap<Object, Boolean> seen) {
        if (o == null || o instanceof String || o instanceof Number || o instanceof Boolean || o instanceof Enum<?>
                || seen.put(o, Boolean.TRUE) != null) {
            return;
        }
        if (o instanceof Map<?, ?> map) {
            map.forEach((k, v) -> unknownFields(v, path + "." + k, out, seen));
            return;
        }
        if (o instanceof Collection<?> list) {
            int i = 0;
            for (Object e : list) {
                unknownFields(e, path + "[" + i++ + "]", out, seen);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || m.getReturnType().isPrimitive()
                    || !m.getName().startsWith("get") || m.getName().equals("getClass")) {
                continue;
            }
            Object value;
            try {
                value = m.invoke(o);
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue;
            }
            if (m.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    out.add(path + ": unknown field(s) " + extra.keySet());
                }
                continue;
            }
            String field = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
            unknownFields(value, path + "." + field, out, seen);
        }
    }

    private static JsonSchema crdSchema(String apiVersion, String kind) throws IOException {
        for (String file : CRDS) {
            JsonNode crd;
            try (InputStream in = ManifestSchemas.class.getResourceAsStream("/k8s-crds/" + file)) {
                crd = YAML.readTree(in);
            }
            String group = crd.at("/spec/group").asText();
            if (!crd.at("/spec/names/kind").asText().equals(kind)) {
                continue;
            }
            for (JsonNode version : crd.at("/spec/versions")) {
                if ((group + "/" + version.get("name").asText()).equals(apiVersion)) {
                    JsonNode schema = strict(version.at("/schema/openAPIV3Schema").deepCopy());
                    return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(schema);
                }
            }
        }
        return null;
    }

    /** Object schemas that list their properties admit no others (metadata is checked by the API server's own rules). */
    static JsonNode strict(JsonNode schema) {
        if (schema instanceof ObjectNode object) {
            if (object.has("properties") && !object.has("additionalProperties")
                    && !object.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
                object.put("additionalProperties", false);
            }
            // Kubernetes' own keywords (list types, int-or-string, CEL rules) mean nothing to a JSON
            // Schema validator: dropped once read. int-or-string fields carry an anyOf as well.
            object.properties().removeIf(e -> e.getKey().startsWith("x-kubernetes-"));
            object.forEach(ManifestSchemas::strict);
        } else if (schema != null && schema.isArray()) {
            schema.forEach(ManifestSchemas::strict);
        }
        return schema;
    }
}
