package ai.nuri.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.nuri.http.ServedForDeployTests;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Both kustomize overlays rendered by the real kubectl, parsed with the fabric8 Kubernetes model,
 * and held to what the server really does: probes hit live routes, ports and drain times match
 * its flags.
 */
class KubernetesManifestsTest {
    static List<HasMetadata> render(String overlay) throws Exception {
        Tools.Result r = Tools.run(List.of("kubectl", "kustomize", "k8s/overlays/" + overlay));
        assertEquals(0, r.exitCode(), r.output());
        Object parsed = new KubernetesSerialization().unmarshal(r.output());
        @SuppressWarnings("unchecked")
        List<HasMetadata> objects = parsed instanceof List<?> l ? (List<HasMetadata>) l : List.of((HasMetadata) parsed);
        System.out.printf("overlay %s: %d objects %s%n", overlay, objects.size(), objects.stream().map(HasMetadata::getKind).toList());
        return objects;
    }

    static <T> T one(List<HasMetadata> objects, Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        assertEquals(1, found.size(), "one " + type.getSimpleName());
        return found.get(0);
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

    /** Invariants every overlay keeps. Returns the probe paths, checked against a live server by the caller. */
    static List<String> checkCommon(List<HasMetadata> objects) {
        Deployment deployment = one(objects, Deployment.class);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().get(0);
        List<String> args = c.getArgs();
        assertEquals("serve", args.get(0));
        int port = Integer.parseInt(argAfter(args, "--port"));
        assertEquals("0.0.0.0", argAfter(args, "--host"), "a container must listen beyond loopback");
        assertEquals(port, c.getPorts().get(0).getContainerPort());
        String portName = c.getPorts().get(0).getName();
        for (Probe p : List.of(c.getStartupProbe(), c.getLivenessProbe(), c.getReadinessProbe())) {
            assertEquals(portName, p.getHttpGet().getPort().getStrVal(), "probes use the server's port");
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
        assertTrue(c.getVolumeMounts().stream().filter(m -> m.getName().equals("models")).findFirst().orElseThrow().getReadOnly());
        assertEquals(argAfter(args, "--model-store"),
                c.getVolumeMounts().stream().filter(m -> m.getName().equals("models")).findFirst().orElseThrow().getMountPath());

        Service service = one(objects, Service.class);
        assertEquals(portName, service.getSpec().getPorts().get(0).getTargetPort().getStrVal());
        assertEquals(deployment.getSpec().getSelector().getMatchLabels(), service.getSpec().getSelector());
        PodDisruptionBudget pdb = one(objects, PodDisruptionBudget.class);
        assertEquals(deployment.getSpec().getSelector().getMatchLabels(), pdb.getSpec().getSelector().getMatchLabels());
        GenericKubernetesResource monitor = custom(objects, "ServiceMonitor");
        @SuppressWarnings("unchecked")
        Map<String, Object> monitorSpec = (Map<String, Object>) monitor.getAdditionalProperties().get("spec");
        @SuppressWarnings("unchecked")
        Map<String, Object> endpoint = ((List<Map<String, Object>>) monitorSpec.get("endpoints")).get(0);
        assertEquals(portName, endpoint.get("port"));
        @SuppressWarnings("unchecked")
        Map<String, String> monitorSelects = (Map<String, String>) ((Map<String, Object>) monitorSpec.get("selector")).get("matchLabels");
        assertTrue(service.getMetadata().getLabels().entrySet().containsAll(monitorSelects.entrySet()),
                "the ServiceMonitor selects the Service");
        assertEquals("/metrics", endpoint.get("path"));
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
        ServedForDeployTests.assertRoutesAnswer200(probes);
    }

    @Test
    void blackwellOverlayAsksForAGpuOnBlackwellNodesAndScalesOnTheQueue() throws Exception {
        List<HasMetadata> objects = render("blackwell");
        List<String> probes = checkCommon(objects);
        Container c = one(objects, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals(new Quantity("1"), c.getResources().getLimits().get("nvidia.com/gpu"));
        assertEquals(new Quantity("1"), c.getResources().getRequests().get("nvidia.com/gpu"));
        assertEquals("blackwell", one(objects, Deployment.class).getSpec().getTemplate().getSpec().getNodeSelector()
                .get("nvidia.com/gpu.family"));
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
        String query = (String) ((Map<String, Object>) trigger.get("metadata")).get("query");
        assertTrue(query.contains("nuri_num_requests_waiting") && query.contains("nuri_num_requests_running"), query);
        assertTrue(objects.stream().noneMatch(o -> o instanceof HorizontalPodAutoscaler), "KEDA owns scaling here");
        ServedForDeployTests.assertRoutesAnswer200(probes);
        ServedForDeployTests.assertExported(List.of("nuri_num_requests_waiting", "nuri_num_requests_running"));
    }
}
