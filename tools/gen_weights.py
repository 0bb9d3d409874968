#!/usr/bin/python3
"""Generate a synthetic but *realistic* BERT / sentence-transformers model directory.

Real all-MiniLM-L6-v2 weights cannot be downloaded here, so tests run the encoder on
weights generated with MiniLM's exact geometry and tensor names.  The weights are not
tiny N(0, 0.02) noise: they are shaped so that the network behaves like a trained BERT
as far as numerics go (peaky attention, LayerNorm outlier dimensions, a wide spread of
activations), because reduced-precision (int8 / bf16) paths are judged against it.

    tools/gen_weights.py --out DIR [--seed N] [--geometry minilm|small] [--dtype f32|f16|bf16]

Output is deterministic byte for byte for a given (seed, geometry, dtype).  numpy only.
The tokenizer and sentence-transformers configs are copied from
models/all-MiniLM-L6-v2 (vendored in the repository; Apache-2.0).
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC_MODEL = os.path.join(REPO, "models", "all-MiniLM-L6-v2")

COPY_FILES = ["vocab.txt", "tokenizer.json", "tokenizer_config.json",
              "special_tokens_map.json", "sentence_bert_config.json", "modules.json",
              "config_sentence_transformers.json"]

SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
         "intermediate_size": 128}


# ----------------------------------------------------------------------------- safetensors
def to_bf16_bits(a):
    """float32 -> bfloat16 bit patterns (uint16), round to nearest even."""
    u = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype("<u2")


def encode(a, dtype):
    a = np.asarray(a, dtype=np.float32)
    if dtype == "f32":
        return "F32", np.ascontiguousarray(a, dtype="<f4").tobytes()
    if dtype == "f16":
        return "F16", np.ascontiguousarray(a.astype(np.float16), dtype="<f2").tobytes()
    if dtype == "bf16":
        return "BF16", to_bf16_bits(a).tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, dtype):
    """tensors: dict name -> float32 array.  Tensors are laid out sorted by name."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name in sorted(tensors):
        arr = tensors[name]
        st_dtype, raw = encode(arr, dtype)
        header[name] = {"dtype": st_dtype, "shape": list(arr.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- weights
def gen_weights(cfg, seed):
    H = cfg["hidden_size"]
    I = cfg["intermediate_size"]
    NL = cfg["num_hidden_layers"]
    NH = cfg["num_attention_heads"]
    V = cfg["vocab_size"]
    P = cfg["max_position_embeddings"]
    T = cfg["type_vocab_size"]
    dh = H // NH
    rng = np.random.default_rng(seed)
    f32 = np.float32
    W = {}

    def normal(shape, std=1.0, mean=0.0):
        return (rng.standard_normal(shape) * std + mean).astype(f32)

    # Outlier dimensions of the residual stream: the same two dims in every LayerNorm,
    # gamma ~3-5 in the embedding and attention-output LayerNorms (trained BERTs have a
    # couple of such dims); the output LayerNorms' gammas there are set by calibrate().
    n_out = 2
    out_dims = rng.choice(H, size=n_out, replace=False)
    out_gamma = rng.uniform(3.0, 5.0, size=n_out)
    out_sign_beta = rng.choice([-1.0, 1.0], size=n_out)

    def layernorm(prefix, beta_std=0.03, outlier_gamma=True):
        g = normal((H,), 0.1, 1.0)
        if outlier_gamma:
            g[out_dims] = out_gamma * rng.uniform(0.9, 1.1, size=n_out)
        b = normal((H,), beta_std)
        b[out_dims] += out_sign_beta * rng.uniform(0.2, 0.5, size=n_out)
        W[prefix + ".weight"] = g.astype(f32)
        W[prefix + ".bias"] = b.astype(f32)

    # --- embeddings
    dim_scale = np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=H))   # 0.5x .. 2x per dim
    tok_scale = np.exp(rng.normal(0.0, 0.15, size=(V, 1)))              # per-token norm spread
    common = rng.normal(0.0, 0.005, size=H)                             # anisotropy
    we = rng.standard_normal((V, H)) * 0.05 * dim_scale * tok_scale + common
    W["embeddings.word_embeddings.weight"] = we.astype(f32)

    # positions: smooth sinusoids with random per-dim frequency/phase + a little noise,
    # amplitude decaying with position like trained absolute position embeddings.
    pos = np.arange(P)[:, None]
    freq = np.exp(rng.uniform(np.log(1.0 / 300.0), np.log(1.0), size=H))
    phase = rng.uniform(0.0, 2.0 * np.pi, size=H)
    amp = 0.012 * np.exp(rng.uniform(np.log(0.5), np.log(2.0), size=H))
    pe = amp * np.sin(pos * freq + phase) * (1.0 + 1.0 / (1.0 + pos / 4.0))
    pe += rng.standard_normal((P, H)) * 0.004
    W["embeddings.position_embeddings.weight"] = pe.astype(f32)
    W["embeddings.token_type_embeddings.weight"] = normal((T, H), 0.01)
    layernorm("embeddings.LayerNorm", beta_std=0.02)

    calib = {"logit_std": [], "out_ratio": [], "out_dims": out_dims}
    for i in range(NL):
        p = "encoder.layer.%d." % i
        # Attention: per-head target logit std (over keys) between 1.5 and 4.5, reached by
        # calibration below; a third of the heads have K partly aligned with Q
        # (similar-token attention -> very peaky).
        wq = np.empty((H, H))
        wk = np.empty((H, H))
        targets = rng.uniform(1.5, 4.5, size=NH)
        for h in range(NH):
            sl = slice(h * dh, (h + 1) * dh)
            q = rng.standard_normal((dh, H)) / np.sqrt(H)
            k = rng.standard_normal((dh, H)) / np.sqrt(H)
            if rng.uniform() < 0.35:
                a = rng.uniform(0.1, 0.35)
                k = a * q + np.sqrt(1.0 - a * a) * k
            wq[sl] = q
            wk[sl] = k
        calib["logit_std"].append(targets)
        W[p + "attention.self.query.weight"] = wq.astype(f32)
        W[p + "attention.self.query.bias"] = normal((H,), 0.02)
        W[p + "attention.self.key.weight"] = wk.astype(f32)
        W[p + "attention.self.key.bias"] = normal((H,), 0.02)
        W[p + "attention.self.value.weight"] = normal((H, H), 1.0 / np.sqrt(H))
        W[p + "attention.self.value.bias"] = normal((H,), 0.02)
        W[p + "attention.output.dense.weight"] = normal((H, H), 0.8 / np.sqrt(H))
        W[p + "attention.output.dense.bias"] = normal((H,), 0.02)
        layernorm(p + "attention.output.LayerNorm")
        # FFN: fan-in scaled, slightly negative intermediate bias (sparser GELU, as trained)
        w1 = normal((I, H), 1.0 / np.sqrt(H))
        b1 = normal((I,), 0.1, -0.1)
        w2 = normal((H, I), 0.8 / np.sqrt(I))
        # small bias; calibrate() then removes part of the shared (all-token) direction
        b2 = rng.normal(0.0, 0.02, size=H)
        W[p + "intermediate.dense.weight"] = w1
        W[p + "intermediate.dense.bias"] = b1
        W[p + "output.dense.weight"] = w2
        W[p + "output.dense.bias"] = b2.astype(f32)
        # output LN: outlier-dim gammas are set by calibration (see calibrate())
        layernorm(p + "output.LayerNorm", outlier_gamma=False)
        calib["out_ratio"].append(rng.uniform(3.0, 6.0, size=n_out))

    W["pooler.dense.weight"] = normal((H, H), 1.0 / np.sqrt(H))
    W["pooler.dense.bias"] = normal((H,), 0.02)
    for k in W:
        W[k] = np.ascontiguousarray(W[k], dtype=f32)
    calibrate(W, cfg, calib, seed)
    return W


DEMEAN = 0.5


def q2(x):
    """Round a positive scale factor to a 1/64 octave grid, so that last-bit differences
    of the calibration forward (BLAS, machine) cannot change the generated bytes."""
    return float(2.0 ** (np.round(np.log2(x) * 64.0) / 64.0))


def erf(x):
    # Abramowitz & Stegun 7.1.26 (|err| < 1.5e-7): plenty for calibration statistics
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    return s * y


def calibrate(W, cfg, calib, seed):
    """Run the network on synthetic token sequences (Zipf-distributed ids) and rescale
    (1) each head's Q/K so its logits (over keys) have the drawn target std, and
    (2) the outlier-dim gammas of each output LayerNorm so the outlier dims leave the
    layer at 3-6x the typical dim rms.  Post-LN BERT compounds a same-dim gamma > 1 layer
    after layer (the residual stream collapses onto that dim); this keeps the outlier
    magnitude stationary, as in trained BERTs, while the attention LayerNorms keep their
    gamma 3-5 outliers (FFN inputs then carry ~10x outlier channels)."""
    H, NH, NL = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    dh = H // NH
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    V = cfg["vocab_size"]
    crng = np.random.default_rng([seed, 2024])
    N, L = 16, 64
    perm = crng.permutation(np.arange(1000, V))
    ranks = np.minimum(crng.zipf(1.2, size=(N, L)), len(perm)) - 1
    ids = perm[ranks]
    ids[:, 0] = 101
    ids[:, -1] = 102
    w = {k: v.astype(np.float64) for k, v in W.items()}

    def ln(x, pre):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + eps) * w[pre + ".weight"] + w[pre + ".bias"]

    def lin(x, pre):
        return x @ w[pre + ".weight"].T + w[pre + ".bias"]

    x = (w["embeddings.word_embeddings.weight"][ids]
         + w["embeddings.position_embeddings.weight"][:L][None]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = ln(x, "embeddings.LayerNorm")
    od = calib["out_dims"]
    for i in range(NL):
        p = "encoder.layer.%d." % i
        q = lin(x, p + "attention.self.query").reshape(N, L, NH, dh).transpose(0, 2, 1, 3)
        k = lin(x, p + "attention.self.key").reshape(N, L, NH, dh).transpose(0, 2, 1, 3)
        sc = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
        meas = sc.std(-1).mean(axis=(0, 2))                         # [NH]
        for h in range(NH):
            f = q2(np.sqrt(calib["logit_std"][i][h] / meas[h]))
            sl = slice(h * dh, (h + 1) * dh)
            for n in ("query", "key"):
                for t in ("weight", "bias"):
                    key = p + "attention.self.%s.%s" % (n, t)
                    W[key][sl] = (W[key][sl].astype(np.float64) * f).astype(np.float32)
                    w[key][sl] = W[key][sl]
        q = lin(x, p + "attention.self.query").reshape(N, L, NH, dh).transpose(0, 2, 1, 3)
        k = lin(x, p + "attention.self.key").reshape(N, L, NH, dh).transpose(0, 2, 1, 3)
        v = lin(x, p + "attention.self.value").reshape(N, L, NH, dh).transpose(0, 2, 1, 3)
        sc = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
        sc = np.exp(sc - sc.max(-1, keepdims=True))
        pr = sc / sc.sum(-1, keepdims=True)
        ctx = (pr @ v).transpose(0, 2, 1, 3).reshape(N, L, H)
        x = ln(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        pre = lin(x, p + "intermediate.dense")
        y = lin(0.5 * pre * (1.0 + erf(pre / np.sqrt(2.0))), p + "output.dense") + x
        # Remove half of the direction shared by all tokens (the positive mean of GELU,
        # position/type embeddings, biases).  Without it post-LN attention averaging
        # makes every token drift onto one vector and all sentence embeddings of
        # different texts end up ~parallel; trained models keep them apart.
        shift = np.round(DEMEAN * y.reshape(-1, H).mean(0) * 4096.0) / 4096.0
        key = p + "output.dense.bias"
        W[key] = (w[key] - shift).astype(np.float32)
        w[key] = W[key].astype(np.float64)
        y = y - shift
        m = y.mean(-1, keepdims=True)
        z = (y - m) / np.sqrt(((y - m) ** 2).mean(-1, keepdims=True) + eps)
        g = W[p + "output.LayerNorm.weight"]
        rms = np.sqrt((z.reshape(-1, H) ** 2).mean(0))
        typical = np.median(rms * np.abs(w[p + "output.LayerNorm.weight"]))
        for j, d in enumerate(od):
            g[d] = np.float32(q2(calib["out_ratio"][i][j] * typical / rms[d]))
        w[p + "output.LayerNorm.weight"] = g.astype(np.float64)
        x = ln(y, p + "output.LayerNorm")


def expected_shapes(cfg):
    H, I = cfg["hidden_size"], cfg["intermediate_size"]
    s = {"embeddings.word_embeddings.weight": [cfg["vocab_size"], H],
         "embeddings.position_embeddings.weight": [cfg["max_position_embeddings"], H],
         "embeddings.token_type_embeddings.weight": [cfg["type_vocab_size"], H],
         "embeddings.LayerNorm.weight": [H], "embeddings.LayerNorm.bias": [H],
         "pooler.dense.weight": [H, H], "pooler.dense.bias": [H]}
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        for n in ("query", "key", "value"):
            s[p + "attention.self.%s.weight" % n] = [H, H]
            s[p + "attention.self.%s.bias" % n] = [H]
        s[p + "attention.output.dense.weight"] = [H, H]
        s[p + "attention.output.dense.bias"] = [H]
        s[p + "intermediate.dense.weight"] = [I, H]
        s[p + "intermediate.dense.bias"] = [I]
        s[p + "output.dense.weight"] = [H, I]
        s[p + "output.dense.bias"] = [H]
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            s[p + ln + ".weight"] = [H]
            s[p + ln + ".bias"] = [H]
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--geometry", choices=["minilm", "small"], default="minilm")
    ap.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    args = ap.parse_args()

    if not os.path.isdir(SRC_MODEL):
        sys.exit("gen_weights: %s not found" % SRC_MODEL)
    with open(os.path.join(SRC_MODEL, "config.json")) as f:
        cfg = json.load(f)
    if args.geometry == "small":
        cfg.update(SMALL)
    assert cfg["hidden_size"] % cfg["num_attention_heads"] == 0

    W = gen_weights(cfg, args.seed)
    exp = expected_shapes(cfg)
    assert set(W) == set(exp), set(W) ^ set(exp)
    for k, v in exp.items():
        assert list(W[k].shape) == v, (k, W[k].shape, v)
        assert np.isfinite(W[k]).all(), k

    os.makedirs(os.path.join(args.out, "1_Pooling"), exist_ok=True)
    write_safetensors(os.path.join(args.out, "model.safetensors"), W, args.dtype)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    for name in COPY_FILES:
        src = os.path.join(SRC_MODEL, name)
        if os.path.exists(src):
            with open(src, "rb") as fi, open(os.path.join(args.out, name), "wb") as fo:
                shutil.copyfileobj(fi, fo)
    with open(os.path.join(SRC_MODEL, "1_Pooling", "config.json")) as f:
        pool = json.load(f)
    pool["word_embedding_dimension"] = cfg["hidden_size"]
    with open(os.path.join(args.out, "1_Pooling", "config.json"), "w") as f:
        json.dump(pool, f, indent=2)
        f.write("\n")
    nparam = sum(int(v.size) for v in W.values())
    print("gen_weights: %s geometry=%s dtype=%s seed=%d tensors=%d params=%d"
          % (args.out, args.geometry, args.dtype, args.seed, len(W), nparam))


if __name__ == "__main__":
    main()
