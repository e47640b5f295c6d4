package ai.nuri.model;

import java.util.Map;

/**
 * A deliberately naive, loop-by-loop implementation of the decoder written from the Hugging Face
 * definitions, independent of the NDArray code: the yardstick the real implementation is checked
 * against. One token at a time, full recomputation, doubles throughout.
 */
public final class NaiveReference {
    private NaiveReference() {}

    public static double[] layerNorm1p(double[] x, float[] w, float[] b, double eps) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= x.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (x[i] - mean) / Math.sqrt(var + eps) * (w[i] + 1.0) + b[i];
        }
        return y;
    }

    public static double[] rmsNorm(double[] x, float[] w, double eps) {
        double ms = 0;
        for (double v : x) {
            ms += v * v;
        }
        ms /= x.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] / Math.sqrt(ms + eps) * w[i];
        }
        return y;
    }

    /** y = W x + b with W stored [out][in] row-major. */
    public static double[] linear(double[] x, float[] w, float[] b, int out) {
        int in = x.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b == null ? 0 : b[o];
            for (int i = 0; i < in; i++) {
                s += w[o * in + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    /**
     * Llama 3's scaled inverse frequencies, written from transformers' {@code _compute_llama3_parameters}
     * in doubles, independently of {@code RotaryEmbedding}: wavelengths shorter than
     * original/high are kept, longer than original/low divided by the factor, and the band between
     * blended linearly in original/wavelength.
     */
    public static double[] llama3InverseFrequencies(int rotDim, double theta, double factor, double low, double high,
            int original) {
        double[] inv = new double[rotDim / 2];
        for (int i = 0; i < inv.length; i++) {
            double plain = Math.pow(theta, -2.0 * i / rotDim);
            double wavelength = 2 * Math.PI / plain;
            if (wavelength < original / high) {
                inv[i] = plain;
            } else if (wavelength > original / low) {
                inv[i] = plain / factor;
            } else {
                double smooth = (original / wavelength - low) / (high - low);
                inv[i] = (1 - smooth) * plain / factor + smooth * plain;
            }
        }
        return inv;
    }

    /** Rotates the first rotDim channels of one head vector, NeoX style (pairs i and i + rotDim/2). */
    public static double[] rotary(double[] head, int position, double[] invFreq, int rotDim) {
        double[] y = head.clone();
        int half = rotDim / 2;
        for (int i = 0; i < half; i++) {
            double angle = position * invFreq[i];
            double c = Math.cos(angle);
            double s = Math.sin(angle);
            double a = head[i];
            double b = head[i + half];
            y[i] = a * c - b * s;
            y[i + half] = b * c + a * s;
        }
        return y;
    }

    public static double[] relu2Mlp(double[] x, float[] up, float[] down, int inter) {
        double[] h = linear(x, up, null, inter);
        for (int i = 0; i < h.length; i++) {
            double r = Math.max(0, h[i]);
            h[i] = r * r;
        }
        return linear(h, down, null, x.length);
    }

    public static double[] swigluMlp(double[] x, float[] gate, float[] up, float[] down, int inter) {
        double[] g = linear(x, gate, null, inter);
        double[] u = linear(x, up, null, inter);
        double[] h = new double[inter];
        for (int i = 0; i < inter; i++) {
            h[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
        }
        return linear(h, down, null, x.length);
    }

    /**
     * Causal attention for the last query over keys/values of positions 0..t, with query head h
     * reading key/value head h / (heads / kvHeads).
     */
    public static double[] attention(double[][] q, double[][][] keys, double[][][] values, int t, int heads,
            int kvHeads, int headDim) {
        double[] out = new double[heads * headDim];
        int group = heads / kvHeads;
        for (int h = 0; h < heads; h++) {
            int kv = h / group;
            double[] scores = new double[t + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j <= t; j++) {
                double s = 0;
                for (int d = 0; d < headDim; d++) {
                    s += q[h][d] * keys[j][kv][d];
                }
                scores[j] = s / Math.sqrt(headDim);
                max = Math.max(max, scores[j]);
            }
            double sum = 0;
            for (int j = 0; j <= t; j++) {
                scores[j] = Math.exp(scores[j] - max);
                sum += scores[j];
            }
            for (int j = 0; j <= t; j++) {
                for (int d = 0; d < headDim; d++) {
                    out[h * headDim + d] += scores[j] / sum * values[j][kv][d];
                }
            }
        }
        return out;
    }

    /** Logits at every position of {@code tokens}, from weights by Hugging Face name. */
    public static double[][] logits(ModelConfig c, Map<String, float[]> w, int[] tokens, double[] invFreq) {
        boolean nemotron = c.architecture().equals("NemotronForCausalLM");
        int hidden = c.hiddenSize();
        int heads = c.numHeads();
        int kvHeads = c.numKvHeads();
        int hd = c.headDim();
        int n = tokens.length;
        double[][] x = new double[n][hidden];
        float[] embed = w.get("model.embed_tokens.weight");
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < hidden; i++) {
                x[t][i] = embed[tokens[t] * hidden + i];
            }
        }
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l;
            double[][][] keys = new double[n][kvHeads][];
            double[][][] values = new double[n][kvHeads][];
            double[][] next = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = norm(c, w, p + ".input_layernorm", x[t], nemotron);
                double[] q = linear(h, w.get(p + ".self_attn.q_proj.weight"), w.get(p + ".self_attn.q_proj.bias"), heads * hd);
                double[] k = linear(h, w.get(p + ".self_attn.k_proj.weight"), w.get(p + ".self_attn.k_proj.bias"), kvHeads * hd);
                double[] v = linear(h, w.get(p + ".self_attn.v_proj.weight"), w.get(p + ".self_attn.v_proj.bias"), kvHeads * hd);
                double[][] qh = new double[heads][];
                for (int i = 0; i < heads; i++) {
                    qh[i] = rotary(slice(q, i * hd, hd), t, invFreq, c.rotaryDim());
                }
                for (int i = 0; i < kvHeads; i++) {
                    keys[t][i] = rotary(slice(k, i * hd, hd), t, invFreq, c.rotaryDim());
                    values[t][i] = slice(v, i * hd, hd);
                }
                double[] a = attention(qh, keys, values, t, heads, kvHeads, hd);
                double[] o = linear(a, w.get(p + ".self_attn.o_proj.weight"), w.get(p + ".self_attn.o_proj.bias"), hidden);
                double[] r = add(x[t], o);
                double[] h2 = norm(c, w, p + ".post_attention_layernorm", r, nemotron);
                double[] m = nemotron
                        ? relu2Mlp(h2, w.get(p + ".mlp.up_proj.weight"), w.get(p + ".mlp.down_proj.weight"), c.intermediateSize())
                        : swigluMlp(h2, w.get(p + ".mlp.gate_proj.weight"), w.get(p + ".mlp.up_proj.weight"),
                                w.get(p + ".mlp.down_proj.weight"), c.intermediateSize());
                next[t] = add(r, m);
            }
            x = next;
        }
        float[] head = c.tieWordEmbeddings() ? embed : w.get("lm_head.weight");
        double[][] logits = new double[n][];
        for (int t = 0; t < n; t++) {
            logits[t] = linear(norm(c, w, "model.norm", x[t], nemotron), head, null, c.vocabSize());
        }
        return logits;
    }

    private static double[] norm(ModelConfig c, Map<String, float[]> w, String prefix, double[] x, boolean nemotron) {
        return nemotron ? layerNorm1p(x, w.get(prefix + ".weight"), w.get(prefix + ".bias"), c.normEps())
                : rmsNorm(x, w.get(prefix + ".weight"), c.normEps());
    }

    static double[] slice(double[] v, int from, int len) {
        double[] s = new double[len];
        System.arraycopy(v, from, s, 0, len);
        return s;
    }

    static double[] add(double[] a, double[] b) {
        double[] s = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            s[i] = a[i] + b[i];
        }
        return s;
    }
}
