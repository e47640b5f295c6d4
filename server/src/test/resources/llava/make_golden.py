#!/usr/bin/env python3
"""Golden fixtures for LLaVA (transformers' LlavaForConditionalGeneration) in Java.

Builds test images and two tiny random-weight LLaVA checkpoints, then computes the
reference outputs with an independent, deliberately plain float64 numpy forward pass
(vision tower -> feature selection -> multi-modal projector -> Llama decoder), written
from reading transformers' modeling_llava.py, processing_llava.py, modeling_clip.py,
modeling_siglip.py, modeling_llama.py, activations.py, image_transforms.py and the
CLIP / SigLIP image processors (PIL backend). No transformers or torch code is used.

Outputs, next to this script:

  images/scene.png   RGB 40x30 (w x h): gradient background plus coloured shapes.
  images/alpha.png   RGBA 24x36 with opaque, half and fully transparent pixels whose
                     RGB under alpha 0 is vivid (so "drop alpha" != "composite").
  images/scene.gif|bmp|jpg (JPEG quality 95): the same scene for decoder tests.
  images/images.json sizes/modes of every image, byte sizes, and whether each
                     re-encoded copy decodes to exactly the PNG's pixels.

  siglip-old/  OLDER weight layout (language_model.model.*, language_model.lm_head,
               vision_tower.vision_model.*, multi_modal_projector.*), SigLIP vision
               tower (no CLS), untied lm_head, projector with biases,
               vision_feature_layer -1, strategy "full", SiglipImageProcessor
               (plain resize to 32x32, bicubic, mean/std 0.5).
  clip-new/    NEWER layout (model.language_model.*, model.vision_tower.vision_model.*,
               model.multi_modal_projector.*; no lm_head.weight: tied to embed_tokens),
               CLIP vision tower (CLS + pre_layrnorm), projector without biases,
               vision_feature_layer [-3, -1] (concatenated), strategy "default",
               CLIPImageProcessor (shortest edge 28, bicubic, center crop 28x28,
               OpenAI CLIP mean/std).

Each folder: config.json, model.safetensors (F32, written by hand), preprocessor_config.json,
processor_config.json (LlavaProcessor extras: patch_size, num_additional_image_tokens,
vision_feature_select_strategy), golden.json (pixel values, image features, input ids,
logits, 9 significant digits, plus a "notes" string explaining every convention).

Self-checks: pixel ranges; a numpy re-implementation of Pillow's fixed-point bicubic
resample must equal PIL bit for bit; RGBA->RGB conversion must equal dropping alpha;
one Llama attention layer (GQA + RoPE + causal mask) and one vision attention layer are
recomputed with explicit scalar loops and compared to 1e-10; swapping the image for
alpha.png must change logits at and after the first image position and leave every
earlier position bit-identical.

Deterministic (np.random.default_rng with fixed seeds). Needs Debian's python3-pil and
python3-numpy (apt-get install -y python3-pil python3-numpy). Rerun from the repository
root with:

    /usr/bin/python3 server/src/test/resources/llava/make_golden.py
"""

import json
import math
import os
import struct

import numpy as np
import PIL
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
IMG_DIR = os.path.join(HERE, "images")

RESCALE = 1 / 255  # Python float, what the processors store as rescale_factor
OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


# ----------------------------------------------------------------------------------
# Images
# ----------------------------------------------------------------------------------

def make_scene():
    w, h = 40, 30
    x = np.arange(w)[None, :]
    y = np.arange(h)[:, None]
    arr = np.zeros((h, w, 3), dtype=np.uint8)
    arr[..., 0] = np.round(255.0 * x / (w - 1)).astype(np.uint8)            # red ramp left->right
    arr[..., 1] = np.round(255.0 * y / (h - 1)).astype(np.uint8)            # green ramp top->bottom
    arr[..., 2] = np.round(128 + 100 * np.sin(x / 4.0) * np.cos(y / 5.0)).astype(np.uint8)
    im = Image.fromarray(arr, "RGB")
    d = ImageDraw.Draw(im)
    d.rectangle([3, 4, 14, 12], fill=(220, 30, 40))                 # red box
    d.ellipse([20, 6, 35, 20], fill=(30, 60, 230))                  # blue ellipse
    d.polygon([(5, 27), (15, 17), (22, 28)], fill=(20, 200, 60))    # green triangle
    d.line([(0, 0), (39, 29)], fill=(255, 255, 255), width=1)       # white diagonal
    d.line([(0, 29), (39, 0)], fill=(0, 0, 0), width=1)             # black diagonal
    d.rectangle([33, 24, 37, 27], fill=(255, 230, 0))               # yellow block
    return im


def make_alpha():
    w, h = 24, 36
    x = np.arange(w)[None, :]
    y = np.arange(h)[:, None]
    arr = np.zeros((h, w, 4), dtype=np.uint8)
    arr[..., 0] = np.round(255.0 * x / (w - 1)).astype(np.uint8)
    arr[..., 1] = np.round(255.0 * (h - 1 - y) / (h - 1)).astype(np.uint8)
    arr[..., 2] = ((x * 11 + y * 7) % 256).astype(np.uint8)
    alpha = np.full((h, w), 255, dtype=np.uint8)
    alpha[12:24, :] = 128                                          # half transparent band
    alpha[12:24, ::3] = 200
    alpha[24:, : w // 2] = 0                                       # fully transparent block
    alpha[24:, w // 2:] = 64
    arr[..., 3] = alpha
    # vivid colour hidden under fully transparent pixels: magenta / cyan checker
    checker = ((x + y) % 2 == 0)
    block = np.zeros((h, w), dtype=bool)
    block[24:, : w // 2] = True
    arr[block & checker] = [255, 0, 255, 0]
    arr[block & ~checker] = [0, 255, 255, 0]
    return Image.fromarray(arr, "RGBA")


def write_images():
    os.makedirs(IMG_DIR, exist_ok=True)
    scene = make_scene()
    alpha = make_alpha()
    paths = {
        "scene.png": lambda p: scene.save(p, format="PNG"),
        "alpha.png": lambda p: alpha.save(p, format="PNG"),
        "scene.gif": lambda p: scene.save(p, format="GIF"),
        "scene.bmp": lambda p: scene.save(p, format="BMP"),
        "scene.jpg": lambda p: scene.save(p, format="JPEG", quality=95),
    }
    for name, fn in paths.items():
        fn(os.path.join(IMG_DIR, name))

    png = np.array(Image.open(os.path.join(IMG_DIR, "scene.png")).convert("RGB")).astype(int)
    info = {
        "notes": ("Written by make_golden.py with Pillow %s. 'decoded_mode' is the PIL mode of the "
                  "file as opened; 'max_abs_diff_vs_png' compares the file decoded to RGB with "
                  "scene.png (0 means lossless). GIF is palette-quantised by Pillow on save, JPEG "
                  "is lossy (quality 95, Pillow default 4:2:0 subsampling), BMP is 24-bit and "
                  "lossless." % PIL.__version__),
        "files": {},
    }
    for name in paths:
        p = os.path.join(IMG_DIR, name)
        im = Image.open(p)
        entry = {"width": im.size[0], "height": im.size[1], "decoded_mode": im.mode,
                 "format": im.format, "bytes": os.path.getsize(p)}
        if name.startswith("scene"):
            dec = np.array(im.convert("RGB")).astype(int)
            entry["max_abs_diff_vs_png"] = int(np.abs(dec - png).max())
            entry["mean_abs_diff_vs_png"] = round(float(np.abs(dec - png).mean()), 6)
        else:
            a = np.array(im)
            entry["alpha_values"] = sorted(int(v) for v in np.unique(a[..., 3]))
            entry["transparent_pixels"] = int((a[..., 3] == 0).sum())
        info["files"][name] = entry
    with open(os.path.join(IMG_DIR, "images.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    return info


# ----------------------------------------------------------------------------------
# Pillow bicubic resample, re-implemented (for the self-check and as documentation)
# ----------------------------------------------------------------------------------

PRECISION_BITS = 32 - 8 - 2


def _bicubic(x):
    a = -0.5
    if x < 0.0:
        x = -x
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def _coeffs(in_size, out_size):
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    out = []
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        ss = 1.0 / filterscale
        xmin = max(int(center - support + 0.5), 0)          # C (int) truncation
        xmax = min(int(center + support + 0.5), in_size) - xmin
        k = [_bicubic((x + xmin - center + 0.5) * ss) for x in range(xmax)]
        ww = 0.0
        for v in k:
            ww += v
        k = [v / ww for v in k] if ww != 0.0 else k
        ki = [int(-0.5 + v * (1 << PRECISION_BITS)) if v < 0 else int(0.5 + v * (1 << PRECISION_BITS))
              for v in k]
        out.append((xmin, ki))
    return out


def _pass(arr, coeffs, axis):
    """One separable fixed-point pass over `axis` of an HxWxC uint8 array."""
    arr = np.moveaxis(arr.astype(np.int64), axis, 0)
    res = np.empty((len(coeffs),) + arr.shape[1:], dtype=np.int64)
    for i, (xmin, k) in enumerate(coeffs):
        acc = np.full(arr.shape[1:], 1 << (PRECISION_BITS - 1), dtype=np.int64)
        for j, kv in enumerate(k):
            acc += arr[xmin + j] * kv
        res[i] = np.clip(acc >> PRECISION_BITS, 0, 255)
    return np.moveaxis(res, 0, axis).astype(np.uint8)


def pil_bicubic_resize_numpy(arr, out_h, out_w):
    """Pillow ImagingResample for 8-bit RGB: horizontal pass first (uint8 intermediate), then vertical."""
    h, w = arr.shape[:2]
    if out_w != w:
        arr = _pass(arr, _coeffs(w, out_w), 1)
    if out_h != h:
        arr = _pass(arr, _coeffs(h, out_h), 0)
    return arr


# ----------------------------------------------------------------------------------
# Image processors (transformers PIL path)
# ----------------------------------------------------------------------------------

def preprocess(path, pp):
    im = Image.open(path)
    im.load()
    if pp["do_convert_rgb"] and im.mode != "RGB":
        # transformers.image_transforms.convert_to_rgb: image.convert("RGB") -> alpha dropped
        rgb = im.convert("RGB")
        if im.mode == "RGBA":
            assert np.array_equal(np.array(rgb), np.array(im)[..., :3]), "RGBA->RGB must just drop alpha"
        im = rgb
    arr = np.array(im)                                    # H x W x 3 uint8
    h, w = arr.shape[:2]
    if pp["do_resize"]:
        size = pp["size"]
        if "shortest_edge" in size:
            s = size["shortest_edge"]
            short, long_ = (w, h) if w <= h else (h, w)
            new_short, new_long = s, int(s * long_ / short)
            out_h, out_w = (new_long, new_short) if w <= h else (new_short, new_long)
        else:
            out_h, out_w = size["height"], size["width"]
        assert pp["resample"] == 3
        resized = np.array(Image.fromarray(arr).resize((out_w, out_h), resample=Image.BICUBIC))
        mine = pil_bicubic_resize_numpy(arr, out_h, out_w)
        assert np.array_equal(resized, mine), "numpy Pillow-bicubic emulation differs from PIL"
        arr = resized                                         # still uint8: PIL rounds + clips
        resized_hw = (out_h, out_w)
    else:
        resized_hw = (h, w)
    if pp.get("do_center_crop"):
        ch, cw = pp["crop_size"]["height"], pp["crop_size"]["width"]
        H, W = arr.shape[:2]
        top, left = (H - ch) // 2, (W - cw) // 2
        assert top >= 0 and left >= 0
        arr = arr[top:top + ch, left:left + cw]
        crop_tl = (top, left)
    else:
        crop_tl = None
    x = arr.transpose(2, 0, 1)                               # CHW uint8
    x = (x.astype(np.float64) * pp["rescale_factor"]).astype(np.float32)   # rescale
    mean = np.array(pp["image_mean"], dtype=np.float32)[:, None, None]
    std = np.array(pp["image_std"], dtype=np.float32)[:, None, None]
    x = (x - mean) / std                                     # float32 arithmetic
    assert x.dtype == np.float32
    return x, {"resized_hw": list(resized_hw), "crop_top_left": list(crop_tl) if crop_tl else None}


# ----------------------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------------------

class WeightMaker:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.t = {}

    def linear(self, name, out_f, in_f, bias):
        self.t[name + ".weight"] = self.rng.normal(0, 1 / math.sqrt(in_f), (out_f, in_f)).astype(np.float32)
        if bias:
            self.t[name + ".bias"] = (0.1 * self.rng.normal(size=out_f)).astype(np.float32)

    def norm(self, name, n, bias):
        self.t[name + ".weight"] = (1 + 0.1 * self.rng.normal(size=n)).astype(np.float32)
        if bias:
            self.t[name + ".bias"] = (0.1 * self.rng.normal(size=n)).astype(np.float32)

    def embed(self, name, shape):
        self.t[name] = self.rng.normal(0, 1, shape).astype(np.float32)


def make_llama(wm, p, tc, lm_head_name):
    H, I, V = tc["hidden_size"], tc["intermediate_size"], tc["vocab_size"]
    hd = H // tc["num_attention_heads"]
    kv = tc["num_key_value_heads"] * hd
    wm.embed(p + "embed_tokens.weight", (V, H))
    for i in range(tc["num_hidden_layers"]):
        lp = "%slayers.%d." % (p, i)
        wm.norm(lp + "input_layernorm", H, False)
        wm.linear(lp + "self_attn.q_proj", H, H, False)
        wm.linear(lp + "self_attn.k_proj", kv, H, False)
        wm.linear(lp + "self_attn.v_proj", kv, H, False)
        wm.linear(lp + "self_attn.o_proj", H, H, False)
        wm.norm(lp + "post_attention_layernorm", H, False)
        wm.linear(lp + "mlp.gate_proj", I, H, False)
        wm.linear(lp + "mlp.up_proj", I, H, False)
        wm.linear(lp + "mlp.down_proj", H, I, False)
    wm.norm(p + "norm", H, False)
    if lm_head_name is not None:
        wm.linear(lm_head_name, V, H, False)


def make_vision(wm, p, vc, clip):
    D, I, C, P = vc["hidden_size"], vc["intermediate_size"], vc["num_channels"], vc["patch_size"]
    n_patches = (vc["image_size"] // P) ** 2
    if clip:
        wm.embed(p + "embeddings.class_embedding", (D,))
    wm.t[p + "embeddings.patch_embedding.weight"] = wm.rng.normal(
        0, 1 / math.sqrt(C * P * P), (D, C, P, P)).astype(np.float32)
    if not clip:
        wm.t[p + "embeddings.patch_embedding.bias"] = (0.1 * wm.rng.normal(size=D)).astype(np.float32)
    wm.embed(p + "embeddings.position_embedding.weight", (n_patches + (1 if clip else 0), D))
    if clip:
        wm.norm(p + "pre_layrnorm", D, True)
    for i in range(vc["num_hidden_layers"]):
        lp = "%sencoder.layers.%d." % (p, i)
        wm.norm(lp + "layer_norm1", D, True)
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            wm.linear(lp + "self_attn." + n, D, D, True)
        wm.norm(lp + "layer_norm2", D, True)
        wm.linear(lp + "mlp.fc1", I, D, True)
        wm.linear(lp + "mlp.fc2", D, I, True)
    wm.norm(p + "post_layernorm", D, True)


def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, off, blobs = {}, 0, []
    for n in names:
        a = np.ascontiguousarray(tensors[n], dtype="<f4")
        b = a.tobytes()
        header[n] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------------
# Reference forward (float64)
# ----------------------------------------------------------------------------------

def erf(x):
    return np.vectorize(math.erf)(x)


ACT = {
    "gelu": lambda x: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))),
    "gelu_pytorch_tanh": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
    "quick_gelu": lambda x: x / (1.0 + np.exp(-1.702 * x)),
    "silu": lambda x: x / (1.0 + np.exp(-x)),
}


def softmax(s):
    s = s - s.max(-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(-1, keepdims=True)


def layer_norm(x, W, p, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * W[p + ".weight"] + W[p + ".bias"]


def linear(x, W, p):
    y = x @ W[p + ".weight"].T
    if p + ".bias" in W:
        y = y + W[p + ".bias"]
    return y


def vision_attention(x, W, p, nh):
    L, D = x.shape
    hd = D // nh
    q = linear(x, W, p + ".q_proj").reshape(L, nh, hd).transpose(1, 0, 2)
    k = linear(x, W, p + ".k_proj").reshape(L, nh, hd).transpose(1, 0, 2)
    v = linear(x, W, p + ".v_proj").reshape(L, nh, hd).transpose(1, 0, 2)
    probs = softmax(q @ k.transpose(0, 2, 1) * hd ** -0.5)   # no mask in the vision tower
    o = (probs @ v).transpose(1, 0, 2).reshape(L, D)
    return linear(o, W, p + ".out_proj")


def vision_attention_loops(x, W, p, nh):
    L, D = x.shape
    hd = D // nh

    def proj(name):
        w, b = W[p + "." + name + ".weight"], W[p + "." + name + ".bias"]
        return [[b[o] + sum(w[o][i] * x[t][i] for i in range(D)) for o in range(D)] for t in range(L)]

    q, k, v = proj("q_proj"), proj("k_proj"), proj("v_proj")
    ctx = [[0.0] * D for _ in range(L)]
    for h in range(nh):
        for t in range(L):
            sc = [sum(q[t][h * hd + d] * k[s][h * hd + d] for d in range(hd)) / math.sqrt(hd) for s in range(L)]
            m = max(sc)
            e = [math.exp(c - m) for c in sc]
            z = sum(e)
            for d in range(hd):
                ctx[t][h * hd + d] = sum(e[s] / z * v[s][h * hd + d] for s in range(L))
    wo, bo = W[p + ".out_proj.weight"], W[p + ".out_proj.bias"]
    return np.array([[bo[o] + sum(wo[o][i] * ctx[t][i] for i in range(D)) for o in range(D)] for t in range(L)])


def vision_tower(pixels, W, p, vc, clip, checks):
    """Returns the tuple of hidden states as transformers' vision models return them with
    output_hidden_states=True: [encoder input] + [output of each encoder layer]. post_layernorm is
    NOT applied to any of them (it only feeds last_hidden_state / pooler_output)."""
    P, D, nh = vc["patch_size"], vc["hidden_size"], vc["num_attention_heads"]
    C, Hh, Ww = pixels.shape
    gh, gw = Hh // P, Ww // P
    # conv with kernel = stride = patch: every patch flattened (c, ky, kx), patches row-major (gy, gx)
    patches = pixels.reshape(C, gh, P, gw, P).transpose(1, 3, 0, 2, 4).reshape(gh * gw, C * P * P)
    wconv = W[p + "embeddings.patch_embedding.weight"].reshape(D, C * P * P)
    emb = patches @ wconv.T
    if p + "embeddings.patch_embedding.bias" in W:
        emb = emb + W[p + "embeddings.patch_embedding.bias"]
    # explicit conv check for one patch/channel
    gy, gx, o = 1, 2, 5
    direct = sum(pixels[c, gy * P + ky, gx * P + kx] * W[p + "embeddings.patch_embedding.weight"][o, c, ky, kx]
                 for c in range(C) for ky in range(P) for kx in range(P))
    direct += W.get(p + "embeddings.patch_embedding.bias", np.zeros(D))[o]
    assert abs(direct - emb[gy * gw + gx, o]) < 1e-10
    if clip:
        emb = np.concatenate([W[p + "embeddings.class_embedding"][None, :], emb], axis=0)
    emb = emb + W[p + "embeddings.position_embedding.weight"][: emb.shape[0]]
    x = layer_norm(emb, W, p + "pre_layrnorm", vc["layer_norm_eps"]) if clip else emb
    hidden = [x]
    for i in range(vc["num_hidden_layers"]):
        lp = "%sencoder.layers.%d." % (p, i)
        h = layer_norm(x, W, lp + "layer_norm1", vc["layer_norm_eps"])
        a = vision_attention(h, W, lp + "self_attn", nh)
        if i == 0:
            a2 = vision_attention_loops(h, W, lp + "self_attn", nh)
            checks["vision_attention_loop_maxdiff"] = float(np.abs(a - a2).max())
            assert checks["vision_attention_loop_maxdiff"] < 1e-10
        x = x + a
        h = layer_norm(x, W, lp + "layer_norm2", vc["layer_norm_eps"])
        x = x + linear(ACT[vc["hidden_act"]](linear(h, W, lp + "mlp.fc1")), W, lp + "mlp.fc2")
        hidden.append(x)
    return hidden


def image_features(pixels, W, prefixes, cfg, checks):
    vc = cfg["vision_config"]
    clip = vc["model_type"] == "clip_vision_model"
    hs = vision_tower(pixels.astype(np.float64), W, prefixes["vision"], vc, clip, checks)
    layer = cfg["vision_feature_layer"]
    pool = [hs[layer]] if isinstance(layer, int) else [hs[i] for i in layer]
    if cfg["vision_feature_select_strategy"] == "default":
        pool = [h[1:] for h in pool]                       # drop CLS (position 0)
    sel = np.concatenate(pool, axis=-1)
    pp = prefixes["projector"]
    out = linear(ACT[cfg["projector_hidden_act"]](linear(sel, W, pp + "linear_1")), W, pp + "linear_2")
    return sel, out


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rope_cos_sin(L, hd, theta):
    inv = 1.0 / theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    f = np.outer(np.arange(L, dtype=np.float64), inv)
    e = np.concatenate([f, f], axis=-1)
    return np.cos(e), np.sin(e)


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def llama_attention(h, W, lp, tc):
    L, H = h.shape
    nh, nkv = tc["num_attention_heads"], tc["num_key_value_heads"]
    hd = H // nh
    q = (h @ W[lp + "q_proj.weight"].T).reshape(L, nh, hd)
    k = (h @ W[lp + "k_proj.weight"].T).reshape(L, nkv, hd)
    v = (h @ W[lp + "v_proj.weight"].T).reshape(L, nkv, hd)
    cos, sin = rope_cos_sin(L, hd, tc["rope_theta"])
    q = q * cos[:, None, :] + rotate_half(q) * sin[:, None, :]
    k = k * cos[:, None, :] + rotate_half(k) * sin[:, None, :]
    rep = nh // nkv
    mask = np.triu(np.full((L, L), -np.inf), 1)
    out = np.zeros((L, nh, hd))
    for hh in range(nh):
        kvh = hh // rep                                    # repeat_kv: kv head j serves q heads j*rep..
        s = q[:, hh] @ k[:, kvh].T * hd ** -0.5 + mask
        out[:, hh] = softmax(s) @ v[:, kvh]
    return out.reshape(L, H) @ W[lp + "o_proj.weight"].T


def llama_attention_loops(h, W, lp, tc):
    L, H = h.shape
    nh, nkv = tc["num_attention_heads"], tc["num_key_value_heads"]
    hd = H // nh
    half = hd // 2

    def proj(name, n_out):
        w = W[lp + name + ".weight"]
        return [[sum(w[o][i] * h[t][i] for i in range(H)) for o in range(n_out)] for t in range(L)]

    q, k, v = proj("q_proj", H), proj("k_proj", nkv * hd), proj("v_proj", nkv * hd)

    def rope(vec, base, t):
        r = list(vec[base: base + hd])
        outv = [0.0] * hd
        for i in range(half):
            ang = t / (tc["rope_theta"] ** (2 * i / hd))
            c, s = math.cos(ang), math.sin(ang)
            outv[i] = r[i] * c - r[i + half] * s
            outv[i + half] = r[i + half] * c + r[i] * s
        return outv

    ctx = [[0.0] * H for _ in range(L)]
    for hh in range(nh):
        kvh = hh // (nh // nkv)
        for t in range(L):
            qt = rope(q[t], hh * hd, t)
            sc = []
            for s in range(t + 1):                          # causal: only s <= t
                ks = rope(k[s], kvh * hd, s)
                sc.append(sum(qt[d] * ks[d] for d in range(hd)) / math.sqrt(hd))
            m = max(sc)
            e = [math.exp(c - m) for c in sc]
            z = sum(e)
            for d in range(hd):
                ctx[t][hh * hd + d] = sum(e[s] / z * v[s][kvh * hd + d] for s in range(t + 1))
    wo = W[lp + "o_proj.weight"]
    return np.array([[sum(wo[o][i] * ctx[t][i] for i in range(H)) for o in range(H)] for t in range(L)])


def llama_logits(embeds, W, p, lm_head, tc, checks=None):
    x = embeds
    eps = tc["rms_norm_eps"]
    for i in range(tc["num_hidden_layers"]):
        lp = "%slayers.%d." % (p, i)
        h = rms_norm(x, W[lp + "input_layernorm.weight"], eps)
        a = llama_attention(h, W, lp + "self_attn.", tc)
        if checks is not None and i == 0:
            a2 = llama_attention_loops(h, W, lp + "self_attn.", tc)
            checks["llama_attention_loop_maxdiff"] = float(np.abs(a - a2).max())
            assert checks["llama_attention_loop_maxdiff"] < 1e-10
        x = x + a
        h = rms_norm(x, W[lp + "post_attention_layernorm.weight"], eps)
        g = h @ W[lp + "mlp.gate_proj.weight"].T
        u = h @ W[lp + "mlp.up_proj.weight"].T
        x = x + (ACT["silu"](g) * u) @ W[lp + "mlp.down_proj.weight"].T
    x = rms_norm(x, W[p + "norm.weight"], eps)
    return x @ lm_head.T


# ----------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------

def fmt(v):
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ",".join(fmt(e) for e in v) + "]"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return "%.9g" % float(v)


def dump_golden(path, obj):
    """JSON with numbers at 9 significant digits; one innermost row per line."""
    parts = []
    for key, val in obj.items():
        if isinstance(val, np.ndarray) and val.dtype.kind == "f":
            if val.ndim == 1:
                body = fmt(val)
            else:
                rows = val.reshape(-1, val.shape[-1])
                inner = ",\n    ".join(fmt(r) for r in rows)
                # rebuild nesting for ndim 3 ([3][H][W])
                if val.ndim == 2:
                    body = "[\n    " + inner + "\n  ]"
                else:
                    blocks = []
                    for c in range(val.shape[0]):
                        blocks.append("[\n    " + ",\n    ".join(fmt(r) for r in val[c]) + "\n  ]")
                    body = "[\n  " + ",\n  ".join(blocks) + "\n  ]"
            parts.append("  %s: %s" % (json.dumps(key), body))
        else:
            parts.append("  %s: %s" % (json.dumps(key), json.dumps(val.tolist() if isinstance(val, np.ndarray) else val)))
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")


COMMON_NOTES = """\
Reference: independent float64 numpy forward written from transformers main (LlavaForConditionalGeneration, \
vision tower + LlavaMultiModalProjector + Llama), weights are the F32 values in model.safetensors widened to float64, \
pixel_values are the float32 values below; torch float32 should match to ~1e-5 relative (use atol ~1e-4 on logits).
IMAGE PIPELINE (transformers PIL path: CLIPImageProcessor/SiglipImageProcessor slow classes, = *ImageProcessorPil in v5): \
(1) convert_to_rgb: PIL mode != RGB -> image.convert("RGB"); for RGBA this simply DROPS alpha (RGB kept as stored, NO \
compositing on white/black, no premultiply); alpha.png hides magenta/cyan under alpha=0 so compositing would fail. \
(2) np.array -> HxWx3 uint8. (3) resize: uint8 array -> PIL.Image.fromarray -> Image.resize((w,h), resample=3 BICUBIC, \
reducing_gap=None) -> back to uint8. i.e. Pillow's fixed-point bicubic (a=-0.5, support 2*max(1,in/out) so it \
antialiases when shrinking; coefficients normalised to sum 1 then to int32 with 22 fractional bits rounding half away \
from zero; separable, HORIZONTAL pass first into a uint8 intermediate (round by +2^21 then >>22, clamp 0..255), then \
vertical pass the same way). Result is uint8 (rounded+clamped) BEFORE rescale. make_golden.py has a numpy \
re-implementation asserted bit-identical to PIL. (4) center_crop (CLIP only): top=(H-ch)//2, left=(W-cw)//2. \
(5) rescale: float32(float64(u8) * (1/255)). (6) normalize in float32: (x - float32(mean_c)) / float32(std_c). \
(7) channels first [3][H][W]. pixel_values printed with %.9g, i.e. parse as double then cast to float gives the exact float32. \
Note: v5's default torchvision backend (CLIPImageProcessor/SiglipImageProcessor there, *Fast in v4) resizes with \
torchvision antialias and fuses rescale+normalize; it differs slightly and is NOT what these goldens follow.
VISION FEATURE LAYER: the tower is called with output_hidden_states=True; hidden_states = (encoder input, output of layer \
1, ..., output of layer N) -> N+1 entries, index with Python semantics (-1 = last layer output). hidden_states[0] is the \
encoder input: for CLIP that is AFTER pre_layrnorm (embeddings -> pre_layrnorm -> encoder), for SigLIP the raw \
patch+position embeddings. post_layernorm is NEVER applied to any hidden_states entry (it only feeds last_hidden_state / \
pooler), so -1 means the last encoder layer output BEFORE post_layernorm (post_layernorm weights exist in the checkpoint \
but are unused by LLaVA). (Some 4.5x releases using the check_model_inputs decorator briefly replaced hidden_states[-1] with the \
post-layernormed last_hidden_state; fixed by transformers PR #40994 (tie_last_hidden_states=False); current main = pre-norm.) \
int layer: that single hidden state. list: each listed hidden state, CLS-cropped per strategy, concatenated on the \
channel axis in list order -> projector input width = vision_hidden * len(list).
SELECT STRATEGY: "default" drops token 0 (CLS) of every selected hidden state ([:,1:]); "full" keeps all tokens. \
(For SigLIP, which has no CLS, "default" would wrongly drop a real patch; use "full".)
ENCODER LAYER (CLIP and SigLIP): x += out_proj(attn(layer_norm1(x))); x += fc2(act(fc1(layer_norm2(x)))); LayerNorm with \
biased variance, eps = layer_norm_eps; attention: q,k,v,out projections with biases, head_dim = hidden/heads, \
scores = q.k * head_dim^-0.5, softmax, no mask. Patch embedding = Conv2d(kernel=stride=patch) == per patch, flatten \
(c,ky,kx) and matmul with weight.reshape(D, C*P*P); patches in row-major order (gy, gx). CLIP: [class_embedding; patches] + \
position_embedding[0..N] (N = patches+1), then pre_layrnorm; patch conv has NO bias. SigLIP: patches + \
position_embedding[0..N-1] (no class token, position ids 0..N-1), conv has a bias, no pre-norm.
ACTIVATIONS: "gelu" (projector) = exact 0.5*x*(1+erf(x/sqrt2)); "gelu_pytorch_tanh" (SigLIP) = \
0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3))); "quick_gelu" (CLIP) = x*sigmoid(1.702*x); "silu" (Llama MLP) = x*sigmoid(x).
PROJECTOR: linear_2(act(linear_1(features))), biases iff multimodal_projector_bias.
MERGE: inputs_embeds = embed_tokens(input_ids); positions where input_id == image_token_index are overwritten, in order, by \
the image_features rows (masked_scatter); the number of image tokens must equal the number of feature rows. \
LlavaProcessor expands one "<image>" into num_image_tokens = (H//patch)*(W//patch) + num_additional_image_tokens, minus 1 \
if vision_feature_select_strategy == "default" (H, W = pixel_values size; num_additional_image_tokens = 1 for CLIP-like \
towers with CLS, 0 for SigLIP; older processors always added 1). config.image_seq_length records the same number.
LLAMA: RMSNorm x/sqrt(mean(x^2)+eps)*w; attention without biases, GQA (query head h uses kv head h // (heads/kv_heads)), \
RoPE default (inv_freq = theta^(-2i/head_dim), i < head_dim/2; rotate_half convention: pairs (i, i+head_dim/2), \
NOT interleaved), positions 0..L-1 over the EXPANDED sequence (image tokens included, cache_position = arange(L)), \
scale head_dim^-0.5, causal mask, no padding; MLP down(silu(gate(x))*up(x)); final norm; logits = norm(x) @ lm_head^T \
for every position.
"""


def build(name, seed, cfg, prefixes, lm_head_key, pp, proc_extra, tie, checks_all):
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    tc, vc = cfg["text_config"], cfg["vision_config"]
    clip = vc["model_type"] == "clip_vision_model"

    wm = WeightMaker(seed)
    make_vision(wm, prefixes["vision"], vc, clip)
    n_feat_layers = 1 if isinstance(cfg["vision_feature_layer"], int) else len(cfg["vision_feature_layer"])
    wm.linear(prefixes["projector"] + "linear_1", tc["hidden_size"], vc["hidden_size"] * n_feat_layers,
              cfg["multimodal_projector_bias"])
    wm.linear(prefixes["projector"] + "linear_2", tc["hidden_size"], tc["hidden_size"],
              cfg["multimodal_projector_bias"])
    make_llama(wm, prefixes["text"], tc, None if tie else lm_head_key)
    tensors = wm.t
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        json.dump(pp, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(folder, "processor_config.json"), "w") as f:
        json.dump(proc_extra, f, indent=2, sort_keys=True)
        f.write("\n")

    W = {k: v.astype(np.float64) for k, v in tensors.items()}
    lm_head = W[prefixes["text"] + "embed_tokens.weight"] if tie else W[lm_head_key + ".weight"]

    checks = {}
    px, geo = preprocess(os.path.join(IMG_DIR, "scene.png"), pp)
    px_a, geo_a = preprocess(os.path.join(IMG_DIR, "alpha.png"), pp)
    lo = min((0.0 - m) / s for m, s in zip(pp["image_mean"], pp["image_std"]))
    hi = max((1.0 - m) / s for m, s in zip(pp["image_mean"], pp["image_std"]))
    for arr in (px, px_a):
        assert arr.shape == (3, vc["image_size"], vc["image_size"]), arr.shape
        assert arr.min() >= lo - 1e-6 and arr.max() <= hi + 1e-6, (arr.min(), arr.max())
        assert arr.std() > 0.2, "image should not be flat"

    sel, feats = image_features(px, W, prefixes, cfg, checks)
    _, feats_a = image_features(px_a, W, prefixes, cfg, {})

    P = vc["patch_size"]
    n_img = (px.shape[1] // P) * (px.shape[2] // P) + proc_extra["num_additional_image_tokens"]
    if cfg["vision_feature_select_strategy"] == "default":
        n_img -= 1
    assert n_img == feats.shape[0] == cfg["image_seq_length"], (n_img, feats.shape)

    img_id = cfg["image_token_index"]
    rng = np.random.default_rng(seed + 1000)
    pre = rng.integers(1, img_id, size=4).tolist()
    post = rng.integers(1, img_id, size=3).tolist()
    ids = pre + [img_id] * n_img + post
    emb = W[prefixes["text"] + "embed_tokens.weight"][ids].copy()
    pos = [i for i, t in enumerate(ids) if t == img_id]
    emb[pos] = feats
    logits = llama_logits(emb, W, prefixes["text"], lm_head, tc, checks)

    emb_a = emb.copy()
    emb_a[pos] = feats_a
    logits_a = llama_logits(emb_a, W, prefixes["text"], lm_head, tc)
    d = np.abs(logits - logits_a).max(-1)
    first = pos[0]
    assert np.all(d[:first] == 0.0), d[:first]
    assert np.all(d[first:] > 1e-3), d[first:]
    checks["alpha_vs_scene_logit_maxdiff_before_first_image_pos"] = float(d[:first].max())
    checks["alpha_vs_scene_logit_mindiff_from_first_image_pos"] = float(d[first:].min())

    layer = cfg["vision_feature_layer"]
    notes = COMMON_NOTES + (
        "THIS FOLDER (%s): %s weight layout; vision %s (image %d, patch %d -> %d patches%s); "
        "vision_feature_layer=%s with %d vision hidden states available (indices 0..%d); strategy %s; "
        "projector input width %d, bias=%s; num_image_tokens=%d (= (%d//%d)*(%d//%d) + %d additional%s); "
        "text vocab %d, image_token_index %d; lm_head %s. Image geometry scene.png: resized to %s (HxW)%s; "
        "alpha.png: resized to %s%s. input_ids = 4 text ids, %d image ids, 3 text ids; image positions %d..%d."
    ) % (
        name, "OLDER (language_model.model.*, language_model.lm_head.weight, vision_tower.*, multi_modal_projector.*)"
        if name == "siglip-old" else
        "NEWER (model.language_model.*, model.vision_tower.*, model.multi_modal_projector.*, lm_head tied -> absent)",
        vc["model_type"], vc["image_size"], P, (vc["image_size"] // P) ** 2,
        " + CLS = %d tokens" % ((vc["image_size"] // P) ** 2 + 1) if clip else ", no CLS",
        json.dumps(layer), vc["num_hidden_layers"] + 1, vc["num_hidden_layers"],
        cfg["vision_feature_select_strategy"], sel.shape[1], cfg["multimodal_projector_bias"], n_img,
        px.shape[1], P, px.shape[2], P, proc_extra["num_additional_image_tokens"],
        " - 1 (default strategy drops CLS)" if cfg["vision_feature_select_strategy"] == "default" else "",
        tc["vocab_size"], img_id, "= embed_tokens (tie_word_embeddings true)" if tie else "separate",
        geo["resized_hw"], ", center-cropped at (top,left)=%s" % geo["crop_top_left"] if geo["crop_top_left"] else "",
        geo_a["resized_hw"], ", center-cropped at (top,left)=%s" % geo_a["crop_top_left"] if geo_a["crop_top_left"] else "",
        n_img, pos[0], pos[-1])
    if not clip:
        notes += (" vision_config.vision_use_head=false is set so that SiglipVisionModel does not build the "
                  "attention-pooling head (no head.* tensors exist; LLaVA never uses it).")

    golden = {
        "notes": notes,
        "image": "images/scene.png",
        "image_alpha": "images/alpha.png",
        "num_image_tokens": n_img,
        "image_token_index": img_id,
        "pixel_values": px,
        "pixel_values_alpha": px_a,
        "projector_input": sel,
        "image_features": feats,
        "image_features_alpha": feats_a,
        "input_ids": ids,
        "logits": logits,
    }
    dump_golden(os.path.join(folder, "golden.json"), golden)
    checks_all[name] = checks

    sizes = {f: os.path.getsize(os.path.join(folder, f)) for f in sorted(os.listdir(folder))}
    total = sum(sizes.values())
    assert total < 300 * 1024, total
    print("[%s] params=%d  files=%s  total=%d bytes" % (name, sum(v.size for v in tensors.values()), sizes, total))
    print("[%s] pixel_values %s range [%.4f, %.4f] (allowed [%.4f, %.4f]); alpha range [%.4f, %.4f]"
          % (name, px.shape, px.min(), px.max(), lo, hi, px_a.min(), px_a.max()))
    print("[%s] geometry scene %s alpha %s" % (name, geo, geo_a))
    print("[%s] projector_input %s image_features %s  num_image_tokens=%d  input_ids=%s"
          % (name, sel.shape, feats.shape, n_img, ids))
    print("[%s] logits %s  logits[0,:4]=%s  logits[-1,:4]=%s"
          % (name, logits.shape, np.round(logits[0, :4], 6).tolist(), np.round(logits[-1, :4], 6).tolist()))
    print("[%s] checks %s" % (name, checks))


def main():
    print("numpy %s, Pillow %s" % (np.__version__, PIL.__version__))
    info = write_images()
    for n, e in info["files"].items():
        print("image %-10s %s" % (n, e))

    # extra resample self-check on random images and assorted sizes (up- and down-scaling)
    rng = np.random.default_rng(7)
    for (h, w, oh, ow) in [(30, 40, 32, 32), (30, 40, 28, 37), (36, 24, 42, 28), (17, 50, 9, 13), (5, 7, 23, 31)]:
        a = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        ref = np.array(Image.fromarray(a).resize((ow, oh), resample=Image.BICUBIC))
        assert np.array_equal(ref, pil_bicubic_resize_numpy(a, oh, ow)), (h, w, oh, ow)
    print("pillow bicubic numpy emulation: bit-exact on 5 random cases (fixtures are asserted too)")

    checks = {}

    # ---------------- siglip-old ----------------
    text_old = {
        "model_type": "llama", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 48,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8,
        "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "rope_scaling": None, "max_position_embeddings": 128,
        "tie_word_embeddings": False, "hidden_act": "silu", "attention_bias": False, "mlp_bias": False,
        "torch_dtype": "float32",
    }
    cfg_old = {
        "architectures": ["LlavaForConditionalGeneration"], "model_type": "llava",
        "image_token_index": 63, "projector_hidden_act": "gelu", "vision_feature_layer": -1,
        "vision_feature_select_strategy": "full", "image_seq_length": 16, "multimodal_projector_bias": True,
        "tie_word_embeddings": False, "torch_dtype": "float32",
        "text_config": text_old,
        "vision_config": {
            "model_type": "siglip_vision_model", "hidden_size": 24, "intermediate_size": 40,
            "num_hidden_layers": 2, "num_attention_heads": 4, "image_size": 32, "patch_size": 8,
            "num_channels": 3, "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-6,
            "vision_use_head": False,
        },
    }
    pp_old = {
        "image_processor_type": "SiglipImageProcessor", "processor_class": "LlavaProcessor",
        "do_resize": True, "size": {"height": 32, "width": 32}, "resample": 3,
        "do_rescale": True, "rescale_factor": RESCALE, "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_convert_rgb": True,
    }
    proc_old = {"processor_class": "LlavaProcessor", "image_token": "<image>", "patch_size": 8,
                "vision_feature_select_strategy": "full", "num_additional_image_tokens": 0}
    build("siglip-old", 1234, cfg_old,
          {"vision": "vision_tower.vision_model.", "projector": "multi_modal_projector.",
           "text": "language_model.model."},
          "language_model.lm_head", pp_old, proc_old, False, checks)

    # ---------------- clip-new ----------------
    text_new = dict(text_old, vocab_size=72, tie_word_embeddings=True)
    cfg_new = {
        "architectures": ["LlavaForConditionalGeneration"], "model_type": "llava",
        "image_token_index": 71, "projector_hidden_act": "gelu", "vision_feature_layer": [-3, -1],
        "vision_feature_select_strategy": "default", "image_seq_length": 16, "multimodal_projector_bias": False,
        "tie_word_embeddings": True, "torch_dtype": "float32",
        "text_config": text_new,
        "vision_config": {
            "model_type": "clip_vision_model", "hidden_size": 24, "intermediate_size": 40,
            "num_hidden_layers": 2, "num_attention_heads": 4, "image_size": 28, "patch_size": 7,
            "num_channels": 3, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
        },
    }
    pp_new = {
        "image_processor_type": "CLIPImageProcessor", "processor_class": "LlavaProcessor",
        "do_resize": True, "size": {"shortest_edge": 28}, "resample": 3,
        "do_center_crop": True, "crop_size": {"height": 28, "width": 28},
        "do_rescale": True, "rescale_factor": RESCALE, "do_normalize": True,
        "image_mean": OPENAI_CLIP_MEAN, "image_std": OPENAI_CLIP_STD, "do_convert_rgb": True,
    }
    proc_new = {"processor_class": "LlavaProcessor", "image_token": "<image>", "patch_size": 7,
                "vision_feature_select_strategy": "default", "num_additional_image_tokens": 1}
    build("clip-new", 5678, cfg_new,
          {"vision": "model.vision_tower.vision_model.", "projector": "model.multi_modal_projector.",
           "text": "model.language_model."},
          "lm_head", pp_new, proc_new, True, checks)

    print("all self-checks passed")


if __name__ == "__main__":
    main()
