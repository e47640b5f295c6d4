package ai.nuri.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.http.ServedForDeployTests;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Both kustomize overlays rendered by the real kubectl, validated against the Kubernetes schema
 * and the CRDs' schemas ({@link ManifestSchemas}), and held to what the server really does: the
 * container's arguments parse with the real CLI, probes hit live routes on the management port,
 * ports, Services, the ServiceMonitor and the Ingress point at each other, drain times fit.
 */
class KubernetesManifestsTest {
    static List<HasMetadata> render(String overlay) throws Exception {
        Tools.Result r = Tools.run(List.of("kubectl", "kustomize", "k8s/overlays/" + overlay));
        assertEquals(0, r.exitCode(), r.output());
        List<HasMetadata> objects = parse(r.output());
        System.out.printf("overlay %s: %d objects %s%n", overlay, objects.size(), objects.stream().map(HasMetadata::getKind).toList());
        return objects;
    }

    static List<HasMetadata> parse(String yaml) {
        Object parsed = new KubernetesSerialization().unmarshal(yaml);
        @SuppressWarnings("unchecked")
        List<HasMetadata> objects = parsed instanceof List<?> l ? (List<HasMetadata>) l : List.of((HasMetadata) parsed);
        return objects;
    }

    static <T> T one(List<HasMetadata> objects, Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        assertEquals(1, found.size(), "one " + type.getSimpleName());
        return found.get(0);
    }

    static Service service(List<HasMetadata> objects, String name) {
        return objects.stream().filter(o -> o instanceof Service && o.getMetadata().getName().equals(name))
                .map(Service.class::cast).findFirst().orElseThrow(() -> new AssertionError("no Service " + name));
    }

    static GenericKubernetesResource custom(List<HasMetadata> objects, String kind) {
        return objects.stream().filter(o -> o.getKind().equals(kind)).map(GenericKubernetesResource.class::cast)
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind));
    }

    static String argAfter(List<String> args, String flag) {
        int i = args.indexOf(flag);
        assertTrue(i >= 0 && i + 1 < args.size(), "container args set " + flag);
        return args.get(i + 1);
    }

    static int containerPort(Container c, String name) {
        return c.getPorts().stream().filter(p -> p.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no container port " + name)).getContainerPort();
    }

    /** Invariants every overlay keeps. Returns the probe paths, checked against a live server by the caller. */
    static List<String> checkCommon(List<HasMetadata> objects) throws Exception {
        assertEquals(List.of(), ManifestSchemas.problems(objects), "valid against the Kubernetes and CRD schemas");
        Namespace namespace = one(objects, Namespace.class);
        for (HasMetadata o : objects) {
            if (!(o instanceof Namespace)) {
                assertEquals(namespace.getMetadata().getName(), o.getMetadata().getNamespace(), o.getKind() + " in the namespace");
            }
        }
        assertEquals("restricted", namespace.getMetadata().getLabels().get("pod-security.kubernetes.io/enforce"));

        Deployment deployment = one(objects, Deployment.class);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().get(0);
        List<String> args = c.getArgs();
        new CommandLine(new ai.nuri.cli.NuriCli()).parseArgs(args.toArray(String[]::new)); // the real CLI takes them
        assertEquals("serve", args.get(0));
        assertEquals("0.0.0.0", argAfter(args, "--host"), "a container must listen beyond loopback");
        assertEquals(Integer.parseInt(argAfter(args, "--port")), containerPort(c, "http"));
        assertEquals(Integer.parseInt(argAfter(args, "--management-port")), containerPort(c, "mgmt"));
        for (Probe p : List.of(c.getStartupProbe(), c.getLivenessProbe(), c.getReadinessProbe())) {
            assertEquals("mgmt", p.getHttpGet().getPort().getStrVal(), "probes use the management port");
        }
        assertEquals("/health", c.getLivenessProbe().getHttpGet().getPath(), "liveness must not depend on load");
        assertEquals("/ready", c.getReadinessProbe().getHttpGet().getPath());
        int drain = Integer.parseInt(argAfter(args, "--drain-timeout"));
        long preStop = c.getLifecycle().getPreStop().getSleep().getSeconds();
        assertTrue(pod.getTerminationGracePeriodSeconds() >= drain + preStop,
                "grace period " + pod.getTerminationGracePeriodSeconds() + " covers preStop " + preStop + " + drain " + drain);
        assertTrue(pod.getSecurityContext().getRunAsNonRoot());
        assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation());
        assertNotNull(c.getResources().getRequests(), "resources are requested");
        var models = pod.getVolumes().stream().filter(v -> v.getName().equals("models")).findFirst().orElseThrow();
        assertTrue(models.getPersistentVolumeClaim().getReadOnly(), "models come read-only from a PVC");
        var modelsMount = c.getVolumeMounts().stream().filter(m -> m.getName().equals("models")).findFirst().orElseThrow();
        assertTrue(modelsMount.getReadOnly());
        assertEquals(argAfter(args, "--model-store"), modelsMount.getMountPath());
        Path keysFile = Path.of(argAfter(args, "--api-keys-file"));
        var keysMount = c.getVolumeMounts().stream().filter(m -> Path.of(m.getMountPath()).equals(keysFile.getParent()))
                .findFirst().orElseThrow(() -> new AssertionError("nothing mounted where --api-keys-file points"));
        var keysVolume = pod.getVolumes().stream().filter(v -> v.getName().equals(keysMount.getName())).findFirst().orElseThrow();
        assertNotNull(keysVolume.getSecret(), "API keys come from a Secret");
        assertTrue(keysVolume.getSecret().getOptional() == null || !keysVolume.getSecret().getOptional(),
                "a missing key Secret stops the pod rather than serving without keys");

        Service api = service(objects, "nuri");
        assertEquals(List.of("http"), api.getSpec().getPorts().stream().map(p -> p.getTargetPort().getStrVal()).toList(),
                "the API Service exposes the API only");
        Service metrics = service(objects, "nuri-metrics");
        ServicePort metricsPort = metrics.getSpec().getPorts().get(0);
        assertEquals("mgmt", metricsPort.getTargetPort().getStrVal());
        for (Service s : List.of(api, metrics)) {
            assertEquals(deployment.getSpec().getSelector().getMatchLabels(), s.getSpec().getSelector());
        }
        PodDisruptionBudget pdb = one(objects, PodDisruptionBudget.class);
        assertEquals(deployment.getSpec().getSelector().getMatchLabels(), pdb.getSpec().getSelector().getMatchLabels());

        GenericKubernetesResource monitor = custom(objects, "ServiceMonitor");
        @SuppressWarnings("unchecked")
        Map<String, Object> monitorSpec = (Map<String, Object>) monitor.getAdditionalProperties().get("spec");
        @SuppressWarnings("unchecked")
        Map<String, Object> endpoint = ((List<Map<String, Object>>) monitorSpec.get("endpoints")).get(0);
        @SuppressWarnings("unchecked")
        Map<String, String> monitorSelects = (Map<String, String>) ((Map<String, Object>) monitorSpec.get("selector")).get("matchLabels");
        assertTrue(metrics.getMetadata().getLabels().entrySet().containsAll(monitorSelects.entrySet()),
                "the ServiceMonitor selects the metrics Service");
        assertTrue(!api.getMetadata().getLabels().entrySet().containsAll(monitorSelects.entrySet()),
                "and not the API Service");
        assertEquals(metricsPort.getName(), endpoint.get("port"));
        assertEquals("/metrics", endpoint.get("path"));
        assertTrue(monitor.getMetadata().getLabels().keySet().stream().noneMatch(k -> k.equals("release")),
                "no label that fits only one Prometheus install");

        Ingress ingress = one(objects, Ingress.class);
        var backend = ingress.getSpec().getRules().get(0).getHttp().getPaths().get(0).getBackend().getService();
        assertEquals("nuri", backend.getName());
        assertTrue(api.getSpec().getPorts().stream().anyMatch(p -> p.getName().equals(backend.getPort().getName())),
                "the Ingress routes to a port the API Service has");
        assertEquals(ingress.getSpec().getRules().get(0).getHost(), ingress.getSpec().getTls().get(0).getHosts().get(0),
                "the Ingress serves its host over TLS");
        return List.of(c.getStartupProbe().getHttpGet().getPath(), c.getLivenessProbe().getHttpGet().getPath(),
                c.getReadinessProbe().getHttpGet().getPath());
    }

    @Test
    void cpuOverlayScalesOnCpuAndKeepsTheInvariants() throws Exception {
        List<HasMetadata> objects = render("cpu");
        List<String> probes = checkCommon(objects);
        HorizontalPodAutoscaler hpa = one(objects, HorizontalPodAutoscaler.class);
        assertEquals("nuri", hpa.getSpec().getScaleTargetRef().getName());
        assertEquals("cpu", hpa.getSpec().getMetrics().get(0).getResource().getName());
        ServedForDeployTests.assertManagementRoutesAnswer200(probes);
    }

    @Test
    void gpuOverlayAsksForAGpuPrefersBlackwellAndScalesOnTheQueue() throws Exception {
        List<HasMetadata> objects = render("gpu");
        List<String> probes = checkCommon(objects);
        PodSpec pod = one(objects, Deployment.class).getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().get(0);
        assertEquals(new Quantity("1"), c.getResources().getLimits().get("nvidia.com/gpu"));
        assertEquals(new Quantity("1"), c.getResources().getRequests().get("nvidia.com/gpu"));
        var affinity = pod.getAffinity().getNodeAffinity();
        var required = affinity.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().get(0)
                .getMatchExpressions().get(0);
        assertEquals("nvidia.com/gpu.present", required.getKey(), "any GPU node may run it");
        assertEquals("blackwell", affinity.getPreferredDuringSchedulingIgnoredDuringExecution().get(0).getPreference()
                .getMatchExpressions().get(0).getValues().get(0), "Blackwell preferred");
        assertTrue(pod.getNodeSelector() == null || pod.getNodeSelector().isEmpty(), "not pinned to one generation");
        assertTrue(c.getEnv().stream().anyMatch(e -> e.getName().equals("NURI_DEVICE") && e.getValue().equals("cuda:0")));
        GenericKubernetesResource scaled = custom(objects, "ScaledObject");
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = (Map<String, Object>) scaled.getAdditionalProperties().get("spec");
        @SuppressWarnings("unchecked")
        Map<String, Object> target = (Map<String, Object>) spec.get("scaleTargetRef");
        assertEquals("nuri", target.get("name"));
        @SuppressWarnings("unchecked")
        Map<String, Object> trigger = ((List<Map<String, Object>>) spec.get("triggers")).get(0);
        assertEquals("prometheus", trigger.get("type"));
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) trigger.get("metadata");
        String query = (String) metadata.get("query");
        assertTrue(query.contains("nuri_num_requests_waiting") && query.contains("nuri_num_requests_running"), query);
        assertTrue(((String) metadata.get("serverAddress")).startsWith("http"), "the Prometheus address filled in by kustomize");
        assertTrue(objects.stream().noneMatch(o -> o instanceof HorizontalPodAutoscaler), "KEDA owns scaling here");
        assertTrue(objects.stream().noneMatch(o -> o.getKind().equals("ConfigMap")), "the settings stay local to kustomize");
        ServedForDeployTests.assertManagementRoutesAnswer200(probes);
        ServedForDeployTests.assertExported(List.of("nuri_num_requests_waiting", "nuri_num_requests_running"));
    }

    @Test
    void theSchemaCheckFindsUnknownFieldsAndWrongTypes() throws Exception {
        Tools.Result r = Tools.run(List.of("kubectl", "kustomize", "k8s/overlays/gpu"));
        String broken = r.output().replace("terminationGracePeriodSeconds:", "terminationGracePeriodSecond:")
                .replace("pathType: Prefix", "pathType: Prefix\n        pathTypo: x")
                .replace("cooldownPeriod: 300", "cooldownPeriods: 300")
                .replace("- interval: 15s", "- interval: 15s\n    intervall: 15s");
        List<String> problems = ManifestSchemas.problems(parse(broken));
        System.out.println(problems);
        for (String expected : List.of("terminationGracePeriodSecond", "pathTypo", "cooldownPeriods", "intervall")) {
            assertTrue(problems.stream().anyMatch(p -> p.contains(expected)), expected + " found in " + problems);
        }
        String wrongType = r.output().replace("maxReplicaCount: 32", "maxReplicaCount: many");
        assertTrue(ManifestSchemas.problems(parse(wrongType)).stream().anyMatch(p -> p.contains("maxReplicaCount")));
    }
}
