package ai.nuri.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The NemotronH part of {@code config.json}: which mixer each layer has, and the sizes of the
 * Mamba-2 and mixture-of-experts mixers. Read as transformers' {@code NemotronHConfig} reads it,
 * with the legacy spellings ({@code hybrid_override_pattern}, {@code mamba_n_groups},
 * {@code mamba_d_conv}, {@code mamba_chunk_size}, ...) that checkpoints on the hub still use.
 */
public record HybridConfig(
        List<LayerType> layers,
        int mambaHeads,
        int mambaHeadDim,
        int ssmStateSize,
        int groups,
        int convKernel,
        int chunkSize,
        boolean convBias,
        boolean projectionBias,
        double timeStepLimitLow,
        double timeStepLimitHigh,
        Moe moe) {

    /** A layer's mixer, with the pattern letter of {@code hybrid_override_pattern}. */
    public enum LayerType {
        MAMBA('M', "linear_attention", "mamba"),
        ATTENTION('*', "full_attention", "attention"),
        MLP('-', "mlp", "mlp"),
        MOE('E', "moe", "moe");

        final char letter;
        final String name;
        final String legacyName;

        LayerType(char letter, String name, String legacyName) {
            this.letter = letter;
            this.name = name;
            this.legacyName = legacyName;
        }

        static LayerType ofLetter(char c) {
            for (LayerType t : values()) {
                if (t.letter == c) {
                    return t;
                }
            }
            throw new IllegalArgumentException("hybrid_override_pattern has '" + c + "'; the letters are M, *, - and E");
        }

        static LayerType ofName(String s) {
            for (LayerType t : values()) {
                if (t.name.equals(s) || t.legacyName.equals(s)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("layers_block_type has '" + s
                    + "'; the types are linear_attention, full_attention, mlp and moe");
        }
    }

    /** The mixture-of-experts mixer (DeepSeek-V3-style sigmoid router with grouped top-k). */
    public record Moe(int experts, int expertsPerToken, int intermediateSize, int sharedIntermediateSize,
            Integer latentSize, int groups, int topkGroups, boolean normTopkProb, double routedScalingFactor) {

        public Moe {
            if (experts < 1 || expertsPerToken < 1 || expertsPerToken > experts || groups < 1 || experts % groups != 0
                    || topkGroups < 1 || topkGroups > groups) {
                throw new IllegalArgumentException("MoE: need 1 <= num_experts_per_tok <= n_routed_experts, n_group"
                        + " dividing n_routed_experts and 1 <= topk_group <= n_group");
            }
            if (groups > 1 && experts / groups < 2) {
                throw new IllegalArgumentException("MoE: grouped routing scores a group by its top two experts;"
                        + " each of the n_group groups needs at least two experts");
            }
            if (expertsPerToken > topkGroups * (experts / groups)) {
                throw new IllegalArgumentException("MoE: num_experts_per_tok is more than the experts in topk_group groups");
            }
        }
    }

    public HybridConfig {
        layers = List.copyOf(layers);
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a NemotronH model needs at least one layer");
        }
        if (layers.contains(LayerType.MAMBA) && (mambaHeads < 1 || mambaHeadDim < 1 || ssmStateSize < 1 || groups < 1
                || convKernel < 2 || chunkSize < 1 || mambaHeads % groups != 0)) {
            throw new IllegalArgumentException("Mamba: sizes must be positive, conv_kernel at least 2, and n_groups"
                    + " must divide mamba_num_heads");
        }
        if (layers.contains(LayerType.MOE) && moe == null) {
            throw new IllegalArgumentException("the layer pattern has MoE layers but no n_routed_experts");
        }
    }

    /** Inner width of a Mamba mixer: heads × head dim. */
    public int mambaInner() {
        return mambaHeads * mambaHeadDim;
    }

    /** Channels through the causal convolution: x, B and C. */
    public int convDim() {
        return mambaInner() + 2 * groups * ssmStateSize;
    }

    public long count(LayerType type) {
        return layers.stream().filter(t -> t == type).count();
    }

    public String pattern() {
        StringBuilder sb = new StringBuilder();
        layers.forEach(t -> sb.append(t.letter));
        return sb.toString();
    }

    /** Parses a {@code hybrid_override_pattern} such as {@code M-M*-M-}. */
    public static List<LayerType> parsePattern(String pattern) {
        List<LayerType> out = new ArrayList<>();
        for (char c : pattern.toCharArray()) {
            out.add(LayerType.ofLetter(c));
        }
        return out;
    }

    static HybridConfig parse(JsonNode root) {
        List<LayerType> layers;
        if (root.path("layers_block_type").isArray()) {
            layers = new ArrayList<>();
            for (JsonNode n : root.get("layers_block_type")) {
                layers.add(LayerType.ofName(n.asText()));
            }
        } else if (root.hasNonNull("hybrid_override_pattern")) {
            layers = parsePattern(root.get("hybrid_override_pattern").asText());
        } else {
            throw new IllegalArgumentException("NemotronH needs 'layers_block_type' or 'hybrid_override_pattern'");
        }
        if (root.hasNonNull("num_hidden_layers") && root.get("num_hidden_layers").asInt() != layers.size()) {
            throw new IllegalArgumentException("num_hidden_layers is " + root.get("num_hidden_layers").asInt()
                    + " but the layer pattern has " + layers.size() + " layers");
        }
        JsonNode limit = either(root, "time_step_limit", "mamba_dt_limit");
        double low = 0.0;
        double high = Double.POSITIVE_INFINITY;
        if (limit.isArray() && limit.size() == 2) {
            low = limit.get(0).asDouble();
            high = limit.get(1).asDouble();
        }
        Moe moe = null;
        if (layers.contains(LayerType.MOE)) {
            moe = new Moe(
                    requireInt(root, "n_routed_experts"),
                    root.path("num_experts_per_tok").asInt(2),
                    requireInt(root, "moe_intermediate_size"),
                    root.path("moe_shared_expert_intermediate_size").asInt(0),
                    root.hasNonNull("moe_latent_size") ? root.get("moe_latent_size").asInt() : null,
                    root.path("n_group").asInt(1),
                    root.path("topk_group").asInt(1),
                    root.path("norm_topk_prob").asBoolean(true),
                    root.path("routed_scaling_factor").asDouble(1.0));
            if (moe.sharedIntermediateSize() < 1) {
                throw new IllegalArgumentException("MoE: moe_shared_expert_intermediate_size must be positive");
            }
        }
        String act = root.path("mamba_hidden_act").asText("silu");
        if (!act.equals("silu") && !act.equals("swish")) {
            throw new IllegalArgumentException("mamba_hidden_act '" + act + "' is not supported (silu is)");
        }
        return new HybridConfig(layers,
                root.path("mamba_num_heads").asInt(128),
                root.path("mamba_head_dim").asInt(64),
                root.path("ssm_state_size").asInt(128),
                either(root, "n_groups", "mamba_n_groups").asInt(8),
                either(root, "conv_kernel", "mamba_d_conv").asInt(4),
                either(root, "chunk_size", "mamba_chunk_size").asInt(128),
                either(root, "use_conv_bias", "mamba_conv_bias").asBoolean(true),
                root.path("use_bias").asBoolean(false),
                low, high, moe);
    }

    /** The field under its current name, else under its legacy name. */
    private static JsonNode either(JsonNode root, String name, String legacy) {
        return root.hasNonNull(name) ? root.get(name) : root.path(legacy);
    }

    private static int requireInt(JsonNode root, String field) {
        if (!root.path(field).canConvertToInt()) {
            throw new IllegalArgumentException("missing or non-integer '" + field + "'");
        }
        return root.get(field).asInt();
    }

    /** Writes these fields in transformers' current spelling. */
    void write(ObjectNode o) {
        ArrayNode types = o.putArray("layers_block_type");
        layers.forEach(t -> types.add(t.name));
        o.put("mamba_num_heads", mambaHeads);
        o.put("mamba_head_dim", mambaHeadDim);
        o.put("ssm_state_size", ssmStateSize);
        o.put("n_groups", groups);
        o.put("conv_kernel", convKernel);
        o.put("chunk_size", chunkSize);
        o.put("use_conv_bias", convBias);
        o.put("use_bias", projectionBias);
        o.put("mamba_hidden_act", "silu");
        ArrayNode limit = o.putArray("time_step_limit");
        limit.add(timeStepLimitLow);
        limit.add(timeStepLimitHigh);
        if (moe != null) {
            o.put("n_routed_experts", moe.experts());
            o.put("num_experts_per_tok", moe.expertsPerToken());
            o.put("moe_intermediate_size", moe.intermediateSize());
            o.put("moe_shared_expert_intermediate_size", moe.sharedIntermediateSize());
            if (moe.latentSize() != null) {
                o.put("moe_latent_size", moe.latentSize());
            }
            o.put("n_group", moe.groups());
            o.put("topk_group", moe.topkGroups());
            o.put("norm_topk_prob", moe.normTopkProb());
            o.put("routed_scaling_factor", moe.routedScalingFactor());
        }
    }
}
