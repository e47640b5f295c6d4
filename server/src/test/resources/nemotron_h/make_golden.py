#!/usr/bin/env python3
"""Golden fixtures for NVIDIA NemotronH (NemotronHForCausalLM) checkpoint loading.

Builds two tiny random-weight NemotronH checkpoints (hybrid Mamba-2 / attention /
MLP / MoE decoder, as defined by Hugging Face transformers' modeling_nemotron_h.py)
and computes their logits with an independent, deliberately naive float64 numpy
forward pass (plain per-token Mamba-2 recurrence, per-token MoE routing loops,
explicit causal attention without any positional embedding).

Outputs, next to this script:

  legacy/  as NVIDIA ships checkpoints: prefix "backbone", BF16 weights (the MoE
           e_score_correction_bias stays F32), "hybrid_override_pattern": "ME*M-",
           mamba_n_groups / mamba_d_conv / mamba_chunk_size key names, per-expert
           MoE weights (mixer.experts.{e}.up_proj.weight ...), untied lm_head,
           time_step_limit [0, Infinity].
  modern/  as current transformers saves them: prefix "model", F32 weights,
           "layers_block_type" list, n_groups / conv_kernel / chunk_size key names,
           stacked MoE weights (mixer.experts.up_proj [E, I, in]), MoE latent
           projections, grouped top-k routing (n_group 4, topk_group 2), in/out_proj
           biases, no conv bias, tied embeddings (no lm_head.weight in the file),
           time_step_limit [0.005, 0.08] (both clips are exercised).

Each folder gets config.json, model.safetensors (written by hand, no library) and
golden.json = {"tokens": [13 ids], "logits": [[vocab floats] x 13]} (9 significant
digits). The reference uses exactly the stored values (BF16-rounded weights widened
back to float64 for legacy), so a loader that widens BF16 to FP32 sees the same model.

The script also self-checks the reference: the Mamba-2 mixer is recomputed in the
chunked SSD form (chunk size from config) and by splitting the sequence in two halves
with the SSM state and conv window carried over, both asserted equal to the plain
recurrence within 1e-9; routing is asserted free of near-ties; and changing the
token at position 5 is asserted to change logits only at positions >= 5.

Deterministic (np.random.default_rng with fixed seeds). Requires only numpy.
Rerun from the repository root with:

    python3 server/src/test/resources/nemotron_h/make_golden.py
"""

import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEQ_LEN = 13


# ----------------------------------------------------------------------------
# dtype helpers and safetensors writer
# ----------------------------------------------------------------------------

def bf16_bits(a):
    """float array -> uint16 bf16 bits, round to nearest even."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_to_f64(u16):
    return (u16.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def stored_value(a, dtype):
    """The float64 value a loader sees after widening the stored tensor."""
    if dtype == "BF16":
        return bf16_to_f64(bf16_bits(a)).reshape(a.shape)
    assert dtype == "F32"
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def write_safetensors(path, tensors):
    """tensors: list of (name, float64 array, dtype 'F32'|'BF16')."""
    header = {}
    blobs = []
    offset = 0
    for name, arr, dtype in tensors:
        if dtype == "BF16":
            raw = bf16_bits(arr).astype("<u2").tobytes()
        else:
            raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)


# ----------------------------------------------------------------------------
# config helpers
# ----------------------------------------------------------------------------

TYPE_ALIASES = {
    "M": "mamba", "linear_attention": "mamba", "mamba": "mamba",
    "*": "attention", "full_attention": "attention", "attention": "attention",
    "-": "mlp", "mlp": "mlp",
    "E": "moe", "moe": "moe",
}


def layer_types(cfg):
    if "layers_block_type" in cfg:
        raw = cfg["layers_block_type"]
    else:
        raw = list(cfg["hybrid_override_pattern"])
        assert len(raw) == cfg["num_hidden_layers"]
    return [TYPE_ALIASES[t] for t in raw]


def first(cfg, *keys):
    for k in keys:
        if k in cfg:
            return cfg[k]
    raise KeyError(keys)


def mamba_dims(cfg):
    H = cfg["mamba_num_heads"]
    P = cfg["mamba_head_dim"]
    G = first(cfg, "n_groups", "mamba_n_groups")
    N = cfg["ssm_state_size"]
    K = first(cfg, "conv_kernel", "mamba_d_conv")
    chunk = first(cfg, "chunk_size", "mamba_chunk_size")
    return H, P, G, N, K, chunk


# ----------------------------------------------------------------------------
# random weights
# ----------------------------------------------------------------------------

def make_weights(cfg, rng, prefix, expert_layout, bias_std):
    """Returns dict name -> float64 array (unrounded)."""
    h = cfg["hidden_size"]
    V = cfg["vocab_size"]
    W = {}

    def lin(out_f, in_f):
        return rng.normal(0.0, 1.0 / np.sqrt(in_f), size=(out_f, in_f))

    def normw(n):
        return 1.0 + 0.1 * rng.normal(size=n)

    W[f"{prefix}.embeddings.weight"] = rng.normal(0.0, 1.0, size=(V, h))
    for i, t in enumerate(layer_types(cfg)):
        L = f"{prefix}.layers.{i}"
        W[f"{L}.norm.weight"] = normw(h)
        m = f"{L}.mixer"
        if t == "mamba":
            H, P, G, N, K, _ = mamba_dims(cfg)
            I = H * P
            conv_dim = I + 2 * G * N
            W[f"{m}.in_proj.weight"] = lin(I + conv_dim + H, h)
            if cfg["use_bias"]:
                W[f"{m}.in_proj.bias"] = rng.normal(0.0, 0.1, size=I + conv_dim + H)
            W[f"{m}.conv1d.weight"] = rng.normal(0.0, 0.4, size=(conv_dim, 1, K))
            if cfg["use_conv_bias"]:
                W[f"{m}.conv1d.bias"] = rng.normal(0.0, 0.1, size=conv_dim)
            dt = np.exp(rng.uniform(np.log(0.001), np.log(0.1), size=H))
            W[f"{m}.dt_bias"] = dt + np.log(-np.expm1(-dt))
            W[f"{m}.A_log"] = np.log(rng.uniform(1.0, 16.0, size=H))
            W[f"{m}.D"] = 1.0 + 0.1 * rng.normal(size=H)
            W[f"{m}.norm.weight"] = normw(I)
            W[f"{m}.out_proj.weight"] = lin(h, I)
            if cfg["use_bias"]:
                W[f"{m}.out_proj.bias"] = rng.normal(0.0, 0.1, size=h)
        elif t == "attention":
            nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
            W[f"{m}.q_proj.weight"] = lin(nh * hd, h)
            W[f"{m}.k_proj.weight"] = lin(nkv * hd, h)
            W[f"{m}.v_proj.weight"] = lin(nkv * hd, h)
            W[f"{m}.o_proj.weight"] = lin(h, nh * hd)
        elif t == "mlp":
            W[f"{m}.up_proj.weight"] = lin(cfg["intermediate_size"], h)
            W[f"{m}.down_proj.weight"] = lin(h, cfg["intermediate_size"])
        elif t == "moe":
            E = cfg["n_routed_experts"]
            mi = cfg["moe_intermediate_size"]
            latent = cfg.get("moe_latent_size")
            d_in = latent if latent else h
            W[f"{m}.gate.weight"] = lin(E, h)
            W[f"{m}.gate.e_score_correction_bias"] = rng.normal(0.0, bias_std, size=E)
            ups = np.stack([lin(mi, d_in) for _ in range(E)])
            downs = np.stack([lin(d_in, mi) for _ in range(E)])
            if expert_layout == "stacked":
                W[f"{m}.experts.up_proj"] = ups
                W[f"{m}.experts.down_proj"] = downs
            else:
                for e in range(E):
                    W[f"{m}.experts.{e}.up_proj.weight"] = ups[e]
                    W[f"{m}.experts.{e}.down_proj.weight"] = downs[e]
            if latent:
                W[f"{m}.fc1_latent_proj.weight"] = lin(latent, h)
                W[f"{m}.fc2_latent_proj.weight"] = lin(h, latent)
            si = cfg["moe_shared_expert_intermediate_size"]
            W[f"{m}.shared_experts.up_proj.weight"] = lin(si, h)
            W[f"{m}.shared_experts.down_proj.weight"] = lin(h, si)
        else:
            raise ValueError(t)
    W[f"{prefix}.norm_f.weight"] = normw(h)
    if not cfg["tie_word_embeddings"]:
        W["lm_head.weight"] = rng.normal(0.0, 1.0 / np.sqrt(h), size=(V, h))
    return W


# ----------------------------------------------------------------------------
# naive float64 reference forward pass
# ----------------------------------------------------------------------------

def rmsnorm(x, w, eps):
    return w * x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0.0, x)


def relu2(x):
    return np.maximum(x, 0.0) ** 2


class Stats:
    def __init__(self):
        self.dt_total = 0
        self.dt_low = 0
        self.dt_high = 0
        self.min_choice_gap = np.inf     # last chosen vs first unchosen candidate
        self.min_group_gap = np.inf      # last kept vs first dropped group score
        self.min_chosen_choice = np.inf  # HF masks dropped groups with 0.0


def mamba_pre(cfg, W, m, u):
    """Everything before the SSM scan. Returns z, xBC (pre-conv), dt (clipped), A."""
    H, P, G, N, K, _ = mamba_dims(cfg)
    I = H * P
    conv_dim = I + 2 * G * N
    zxbcdt = u @ W[f"{m}.in_proj.weight"].T
    if cfg["use_bias"]:
        zxbcdt = zxbcdt + W[f"{m}.in_proj.bias"]
    z = zxbcdt[:, :I]
    xBC = zxbcdt[:, I:I + conv_dim]
    dt_raw = zxbcdt[:, I + conv_dim:]
    assert dt_raw.shape[1] == H
    dt = softplus(dt_raw + W[f"{m}.dt_bias"])
    lo, hi = cfg["time_step_limit"]
    A = -np.exp(W[f"{m}.A_log"])
    return z, xBC, dt, lo, hi, A


def causal_conv(cfg, W, m, xBC, history=None):
    """Depthwise causal conv + SiLU. history: [K-1, convDim] inputs before xBC."""
    _, _, _, _, K, _ = mamba_dims(cfg)
    T, C = xBC.shape
    w = W[f"{m}.conv1d.weight"]
    if history is None:
        history = np.zeros((K - 1, C))
    padded = np.concatenate([history, xBC], axis=0)
    out = np.zeros((T, C))
    for t in range(T):
        for c in range(C):
            acc = 0.0
            for k in range(K):
                acc += w[c, 0, k] * padded[t + k, c]   # time t-(K-1)+k
            out[t, c] = acc
    if cfg["use_conv_bias"]:
        out = out + W[f"{m}.conv1d.bias"]
    return silu(out)


def split_xbc(cfg, act):
    H, P, G, N, _, _ = mamba_dims(cfg)
    I = H * P
    T = act.shape[0]
    xs = act[:, :I].reshape(T, H, P)
    B = act[:, I:I + G * N].reshape(T, G, N)
    C = act[:, I + G * N:].reshape(T, G, N)
    return xs, B, C


def ssm_recurrence(cfg, xs, B, C, dt, A, D, state=None):
    """Plain per-token recurrence. Returns y [T, H, P] and the final state."""
    H, P, G, N, _, _ = mamba_dims(cfg)
    T = xs.shape[0]
    s = np.zeros((H, P, N)) if state is None else state.copy()
    y = np.zeros((T, H, P))
    for t in range(T):
        for hh in range(H):
            g = hh // (H // G)
            s[hh] = np.exp(dt[t, hh] * A[hh]) * s[hh] + dt[t, hh] * np.outer(xs[t, hh], B[t, g])
            y[t, hh] = s[hh] @ C[t, g] + D[hh] * xs[t, hh]
    return y, s


def ssm_chunked(cfg, xs, B, C, dt, A, D):
    """Chunked SSD form: intra-chunk quadratic attention-like term plus inter-chunk
    state passing. Independent of ssm_recurrence, used only as a self-check."""
    H, P, G, N, _, chunk = mamba_dims(cfg)
    T = xs.shape[0]
    y = np.zeros((T, H, P))
    state = np.zeros((H, P, N))
    for c0 in range(0, T, chunk):
        c1 = min(T, c0 + chunk)
        L = c1 - c0
        for hh in range(H):
            g = hh // (H // G)
            a = dt[c0:c1, hh] * A[hh]               # [L]
            cum = np.cumsum(a)                      # cum[t] = sum_{r<=t} a_r
            # decay from s (exclusive) to t (inclusive): exp(cum[t] - cum[s]) for s <= t
            seg = cum[:, None] - cum[None, :]
            mask = np.tril(np.ones((L, L), dtype=bool))
            decay = np.where(mask, np.exp(np.where(mask, seg, 0.0)), 0.0)
            CB = C[c0:c1, g] @ B[c0:c1, g].T         # [L, L]
            Mtx = CB * decay * dt[c0:c1, hh][None, :]
            y_intra = Mtx @ xs[c0:c1, hh]            # [L, P]
            y_inter = np.exp(cum)[:, None] * (C[c0:c1, g] @ state[hh].T)  # [L, P]
            y[c0:c1, hh] = y_intra + y_inter + D[hh] * xs[c0:c1, hh]
            # new state at end of chunk
            w_end = np.exp(cum[-1] - cum) * dt[c0:c1, hh]          # [L]
            state[hh] = np.exp(cum[-1]) * state[hh] + (xs[c0:c1, hh] * w_end[:, None]).T @ B[c0:c1, g]
    return y


def mamba_post(cfg, W, m, y, z):
    H, P, G, N, _, _ = mamba_dims(cfg)
    I = H * P
    T = y.shape[0]
    eps = cfg["layer_norm_epsilon"]
    y = y.reshape(T, I) * silu(z)
    gs = I // G
    yn = np.zeros_like(y)
    for g in range(G):
        blk = y[:, g * gs:(g + 1) * gs]
        yn[:, g * gs:(g + 1) * gs] = blk / np.sqrt(np.mean(blk * blk, axis=-1, keepdims=True) + eps)
    yn = yn * W[f"{m}.norm.weight"]
    out = yn @ W[f"{m}.out_proj.weight"].T
    if cfg["use_bias"]:
        out = out + W[f"{m}.out_proj.bias"]
    return out


def mamba_mixer(cfg, W, m, u, stats=None, self_check=False):
    H, P, G, N, K, _ = mamba_dims(cfg)
    z, xBC, dt, lo, hi, A = mamba_pre(cfg, W, m, u)
    if stats is not None:
        stats.dt_total += dt.size
        stats.dt_low += int(np.sum(dt < lo))
        stats.dt_high += int(np.sum(dt > hi))
    dt = np.clip(dt, lo, hi)
    D = W[f"{m}.D"]
    act = causal_conv(cfg, W, m, xBC)
    xs, B, C = split_xbc(cfg, act)
    y, _ = ssm_recurrence(cfg, xs, B, C, dt, A, D)

    if self_check:
        T = u.shape[0]
        # (1) chunked SSD form
        y_chunk = ssm_chunked(cfg, xs, B, C, dt, A, D)
        err = np.max(np.abs(y_chunk - y))
        assert err < 1e-9, f"chunked SSD mismatch {err}"
        # (2) two halves with carried SSM state and last K-1 conv inputs
        half = T // 2
        act1 = causal_conv(cfg, W, m, xBC[:half])
        act2 = causal_conv(cfg, W, m, xBC[half:], history=xBC[half - (K - 1):half])
        xs1, B1, C1 = split_xbc(cfg, act1)
        xs2, B2, C2 = split_xbc(cfg, act2)
        y1, s1 = ssm_recurrence(cfg, xs1, B1, C1, dt[:half], A, D)
        y2, _ = ssm_recurrence(cfg, xs2, B2, C2, dt[half:], A, D, state=s1)
        err2 = np.max(np.abs(np.concatenate([y1, y2]) - y))
        assert err2 < 1e-9, f"split-sequence mismatch {err2}"
        print(f"    {m}: chunked-SSD max err {err:.2e}, split-halves max err {err2:.2e}")

    return mamba_post(cfg, W, m, y, z)


def attention_mixer(cfg, W, m, u):
    T = u.shape[0]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    q = (u @ W[f"{m}.q_proj.weight"].T).reshape(T, nh, hd)
    k = (u @ W[f"{m}.k_proj.weight"].T).reshape(T, nkv, hd)
    v = (u @ W[f"{m}.v_proj.weight"].T).reshape(T, nkv, hd)
    rep = nh // nkv
    out = np.zeros((T, nh, hd))
    for t in range(T):
        for j in range(nh):
            kv = j // rep
            scores = np.array([q[t, j] @ k[s, kv] for s in range(t + 1)]) / np.sqrt(hd)
            p = np.exp(scores - scores.max())
            p /= p.sum()
            out[t, j] = p @ v[:t + 1, kv]
    return out.reshape(T, nh * hd) @ W[f"{m}.o_proj.weight"].T


def mlp_mixer(cfg, W, m, u):
    return relu2(u @ W[f"{m}.up_proj.weight"].T) @ W[f"{m}.down_proj.weight"].T


def expert_weights(cfg, W, m, e):
    if f"{m}.experts.up_proj" in W:
        return W[f"{m}.experts.up_proj"][e], W[f"{m}.experts.down_proj"][e]
    return W[f"{m}.experts.{e}.up_proj.weight"], W[f"{m}.experts.{e}.down_proj.weight"]


def moe_mixer(cfg, W, m, u, stats=None):
    T, h = u.shape
    E = cfg["n_routed_experts"]
    n_group = cfg["n_group"]
    topk_group = cfg["topk_group"]
    top_k = cfg["num_experts_per_tok"]
    gsize = E // n_group
    latent = cfg.get("moe_latent_size")

    logits = u @ W[f"{m}.gate.weight"].T
    scores = sigmoid(logits)
    choice = scores + W[f"{m}.gate.e_score_correction_bias"]
    v = u @ W[f"{m}.fc1_latent_proj.weight"].T if latent else u
    r = np.zeros((T, v.shape[1]))
    for t in range(T):
        gscore = []
        for g in range(n_group):
            vals = sorted(choice[t, g * gsize:(g + 1) * gsize], reverse=True)
            gscore.append(vals[0] + vals[1])
        gorder = sorted(range(n_group), key=lambda g: -gscore[g])
        kept = gorder[:topk_group]
        if stats is not None and topk_group < n_group:
            stats.min_group_gap = min(stats.min_group_gap,
                                      gscore[gorder[topk_group - 1]] - gscore[gorder[topk_group]])
        cands = [e for g in kept for e in range(g * gsize, (g + 1) * gsize)]
        cands.sort(key=lambda e: -choice[t, e])
        chosen = cands[:top_k]
        if stats is not None:
            if len(cands) > top_k:
                stats.min_choice_gap = min(stats.min_choice_gap,
                                           choice[t, cands[top_k - 1]] - choice[t, cands[top_k]])
            stats.min_chosen_choice = min(stats.min_chosen_choice, choice[t, chosen[-1]])
        wts = np.array([scores[t, e] for e in chosen])
        if cfg["norm_topk_prob"]:
            wts = wts / (wts.sum() + 1e-20)
        wts = wts * cfg["routed_scaling_factor"]
        for wgt, e in zip(wts, chosen):
            up, down = expert_weights(cfg, W, m, e)
            r[t] += wgt * (relu2(up @ v[t]) @ down.T)
    if latent:
        r = r @ W[f"{m}.fc2_latent_proj.weight"].T
    shared = relu2(u @ W[f"{m}.shared_experts.up_proj.weight"].T) @ W[f"{m}.shared_experts.down_proj.weight"].T
    return r + shared


def forward(cfg, W, prefix, tokens, stats=None, self_check=False):
    eps = cfg["layer_norm_epsilon"]
    x = W[f"{prefix}.embeddings.weight"][np.asarray(tokens)].copy()
    for i, t in enumerate(layer_types(cfg)):
        L = f"{prefix}.layers.{i}"
        u = rmsnorm(x, W[f"{L}.norm.weight"], eps)
        m = f"{L}.mixer"
        if t == "mamba":
            x = x + mamba_mixer(cfg, W, m, u, stats, self_check)
        elif t == "attention":
            x = x + attention_mixer(cfg, W, m, u)
        elif t == "mlp":
            x = x + mlp_mixer(cfg, W, m, u)
        elif t == "moe":
            x = x + moe_mixer(cfg, W, m, u, stats)
    x = rmsnorm(x, W[f"{prefix}.norm_f.weight"], eps)
    head = W[f"{prefix}.embeddings.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T


# ----------------------------------------------------------------------------
# configs
# ----------------------------------------------------------------------------

LEGACY_CONFIG = {
    "architectures": ["NemotronHForCausalLM"],
    "model_type": "nemotron_h",
    "vocab_size": 96,
    "hidden_size": 32,
    "hybrid_override_pattern": "ME*M-",
    "num_hidden_layers": 5,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "intermediate_size": 48,
    "mlp_hidden_act": "relu2",
    "mamba_num_heads": 4,
    "mamba_head_dim": 16,
    "ssm_state_size": 8,
    "mamba_n_groups": 2,
    "mamba_d_conv": 4,
    "mamba_chunk_size": 4,
    "mamba_hidden_act": "silu",
    "time_step_limit": [0.0, float("inf")],
    "time_step_min": 0.001,
    "time_step_max": 0.1,
    "use_conv_bias": True,
    "use_bias": False,
    "mlp_bias": False,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "moe_intermediate_size": 24,
    "moe_shared_expert_intermediate_size": 40,
    "n_group": 1,
    "topk_group": 1,
    "norm_topk_prob": True,
    "routed_scaling_factor": 2.5,
    "layer_norm_epsilon": 1e-5,
    "tie_word_embeddings": False,
    "max_position_embeddings": 256,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 0,
    "residual_in_fp32": False,
    "rescale_prenorm_residual": True,
    "torch_dtype": "bfloat16",
}

MODERN_CONFIG = {
    "architectures": ["NemotronHForCausalLM"],
    "model_type": "nemotron_h",
    "layers_block_type": ["linear_attention", "moe", "full_attention",
                          "linear_attention", "mlp", "moe"],
    "vocab_size": 80,
    "hidden_size": 32,
    "num_attention_heads": 4,
    "num_key_value_heads": 1,
    "head_dim": 8,
    "intermediate_size": 40,
    "mlp_hidden_act": "relu2",
    "mamba_num_heads": 4,
    "mamba_head_dim": 8,
    "ssm_state_size": 16,
    "n_groups": 2,
    "conv_kernel": 3,
    "chunk_size": 3,
    "mamba_hidden_act": "silu",
    "time_step_limit": [0.005, 0.08],
    "time_step_min": 0.001,
    "time_step_max": 0.1,
    "use_conv_bias": False,
    "use_bias": True,
    "mlp_bias": False,
    "n_routed_experts": 8,
    "num_experts_per_tok": 3,
    "moe_intermediate_size": 20,
    "moe_shared_expert_intermediate_size": 24,
    "moe_latent_size": 16,
    "n_group": 4,
    "topk_group": 2,
    "norm_topk_prob": False,
    "routed_scaling_factor": 1.5,
    "layer_norm_epsilon": 1e-6,
    "tie_word_embeddings": True,
    "max_position_embeddings": 256,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float32",
}

VARIANTS = [
    # name, config, seed, prefix, expert layout, default dtype, F32 exceptions, bias std
    ("legacy", LEGACY_CONFIG, 20240611, "backbone", "per-expert", "BF16",
     ("e_score_correction_bias",), 0.05),
    ("modern", MODERN_CONFIG, 20240612, "model", "stacked", "F32", (), 0.1),
]


def build(name, cfg, seed, prefix, layout, dtype, f32_suffixes, bias_std):
    print(f"== {name} (seed {seed})")
    rng = np.random.default_rng(seed)
    raw = make_weights(cfg, rng, prefix, layout, bias_std)
    tensors = []
    W = {}
    for k, a in raw.items():
        dt = "F32" if any(k.endswith(s) for s in f32_suffixes) else dtype
        tensors.append((k, a, dt))
        W[k] = stored_value(a, dt)
    tokens = [int(t) for t in rng.integers(3, cfg["vocab_size"], size=SEQ_LEN)]

    stats = Stats()
    logits = forward(cfg, W, prefix, tokens, stats=stats, self_check=True)
    assert logits.shape == (SEQ_LEN, cfg["vocab_size"])
    assert np.all(np.isfinite(logits))

    # routing and dt diagnostics
    print(f"  dt values: {stats.dt_total}, clipped low {stats.dt_low}, clipped high {stats.dt_high}"
          f" (limits {cfg['time_step_limit']})")
    print(f"  min gap last-chosen vs first-unchosen choice: {stats.min_choice_gap:.6f}")
    if np.isfinite(stats.min_group_gap):
        print(f"  min gap last-kept vs first-dropped group score: {stats.min_group_gap:.6f}")
    print(f"  min choice value of a chosen expert: {stats.min_chosen_choice:.6f}")
    assert stats.min_choice_gap > 1e-3, "near-tie in expert choice: change the seed"
    assert stats.min_group_gap > 1e-3, "near-tie in group choice: change the seed"
    # HF masks dropped groups' experts with 0.0 (not -inf); chosen ones must beat that.
    assert stats.min_chosen_choice > 1e-3
    if cfg["time_step_limit"][0] > 0:
        assert stats.dt_low > 0 and stats.dt_high > 0, "dt clips not exercised: change the seed"

    # causality: changing token 5 changes only positions >= 5
    tokens2 = list(tokens)
    tokens2[5] = 3 + (tokens[5] - 3 + 7) % (cfg["vocab_size"] - 3)
    assert tokens2[5] != tokens[5]
    logits2 = forward(cfg, W, prefix, tokens2)
    diff = np.max(np.abs(logits2 - logits), axis=-1)
    assert np.all(diff[:5] < 1e-12), diff
    assert np.all(diff[5:] > 1e-6), diff
    print(f"  causality ok: max diff before pos 5 = {diff[:5].max():.1e}, "
          f"min per-position max diff from pos 5 = {diff[5:].min():.3e}")

    print(f"  tokens: {tokens}")
    print(f"  max |logit| = {np.abs(logits).max():.4f}, mean |logit| = {np.abs(logits).mean():.4f}")

    out_dir = os.path.join(HERE, name)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    golden = {
        "tokens": tokens,
        "logits": [[float(f"{v:.9g}") for v in row] for row in logits],
    }
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    total = 0
    for fn in ("config.json", "model.safetensors", "golden.json"):
        sz = os.path.getsize(os.path.join(out_dir, fn))
        total += sz
        print(f"  wrote {name}/{fn}: {sz} bytes")
    assert total < 300 * 1024


def main():
    for v in VARIANTS:
        build(*v)


if __name__ == "__main__":
    main()
