#!/usr/bin/python3
"""Independent reference forward of a sentence-transformers BERT model, in plain torch ops.

    tools/torch_ref.py --model DIR --input IN.jsonl --out OUT.npy
                       [--dtype float64|float32] [--batch 32] [--threads N] [--out64 OUT64.npy]
    tools/torch_ref.py --model DIR --input IN.jsonl --bench [--threads N] [--batch 32]
    tools/torch_ref.py --model DIR --input IN.jsonl --stats

No transformers / sentence-transformers library: the safetensors file is parsed here, and
config.json, modules.json and the pooling config are honoured (pooling modes cls / max /
mean / mean_sqrt_len, Normalize present or not, layer_norm_eps, exact erf GELU).

Input: JSONL, one object per line with "ids" (token ids incl. [CLS]/[SEP], already
truncated).  Texts are batched by length (32 a batch), padded with 0, with the HF BERT additive
mask (1 - mask) * finfo(dtype).min; token_type_ids 0; position ids 0..L-1.
Output: float32 [n, dim] .npy in input order (and float64 with --out64).
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np

# Eager torch allocates a fresh buffer per op; glibc serves buffers > 32 MiB (attention
# scores of a batch of long texts: ~100 MB) with mmap and unmaps them on free, so every op
# pays page faults again: ~3x slower on long texts here.  Keep freed memory in the heap
# instead (glibc reads these at start-up, hence the re-exec).  LENS_TORCH_MALLOC=0: off.
if (__name__ == "__main__" and os.environ.get("LENS_TORCH_MALLOC", "1") != "0"
        and "MALLOC_MMAP_MAX_" not in os.environ):
    os.environ["MALLOC_MMAP_MAX_"] = "0"
    os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", str(1 << 36))
    os.execv(sys.executable, [sys.executable] + sys.argv)

# Debian's torch runs its elementwise ops on libgomp threads and its matmuls on
# OpenBLAS's own pthreads.  With the default (active) wait policy the idle OpenMP
# threads spin and starve OpenBLAS: ~7x slower on 2 cores.  Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ST_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "BF16": "<u2"}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        if dt not in ST_DTYPES:
            raise ValueError("%s: unsupported dtype %s" % (name, dt))
        a, b = info["data_offsets"]
        arr = np.frombuffer(data, dtype=ST_DTYPES[dt], count=(b - a) // np.dtype(ST_DTYPES[dt]).itemsize,
                            offset=base + a)
        if dt == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr.reshape(info["shape"]).astype(np.float64)
    return out


class Model:
    def __init__(self, model_dir, dtype):
        self.dtype = dtype
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        self.cfg = cfg
        act = cfg.get("hidden_act", "gelu")
        if act != "gelu":
            raise ValueError("hidden_act %r not supported (only exact gelu)" % act)
        if cfg.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings")
        self.H = cfg["hidden_size"]
        self.NH = cfg["num_attention_heads"]
        self.NL = cfg["num_hidden_layers"]
        self.dh = self.H // self.NH
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.max_pos = cfg["max_position_embeddings"]

        # sentence-transformers modules
        self.pool_modes = ["mean"]
        self.normalize = False
        mpath = os.path.join(model_dir, "modules.json")
        if os.path.exists(mpath):
            with open(mpath) as f:
                modules = sorted(json.load(f), key=lambda m: m["idx"])
            self.pool_modes = []
            for m in modules:
                t = m["type"].rsplit(".", 1)[-1]
                if t == "Transformer":
                    continue
                if t == "Pooling":
                    with open(os.path.join(model_dir, m["path"], "config.json")) as f:
                        pc = json.load(f)
                    for key, mode in (("pooling_mode_cls_token", "cls"),
                                      ("pooling_mode_max_tokens", "max"),
                                      ("pooling_mode_mean_tokens", "mean"),
                                      ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len")):
                        if pc.get(key, False):
                            self.pool_modes.append(mode)
                    for key in ("pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"):
                        if pc.get(key, False):
                            raise ValueError("pooling mode %s not supported" % key)
                    if not self.pool_modes:
                        raise ValueError("no pooling mode set")
                elif t == "Normalize":
                    self.normalize = True
                else:
                    raise ValueError("module type %s not supported" % m["type"])
        self.dim = self.H * len(self.pool_modes)

        w = load_safetensors(os.path.join(model_dir, "model.safetensors"))
        if any(k.startswith("bert.") for k in w):
            w = {k[5:] if k.startswith("bert.") else k: v for k, v in w.items()}
        self.w = {k: torch.from_numpy(v).to(dtype) for k, v in w.items()}

    def ln(self, x, prefix):
        return F.layer_norm(x, (self.H,), self.w[prefix + ".weight"], self.w[prefix + ".bias"],
                            self.eps)

    def lin(self, x, prefix):
        return torch.matmul(x, self.w[prefix + ".weight"].t()).add_(self.w[prefix + ".bias"])

    def forward(self, ids, mask, stats=None):
        """ids, mask: int64 [B, L].  Returns pooled (and normalized) [B, dim]."""
        B, L = ids.shape
        w = self.w
        pos = torch.arange(L, dtype=torch.long)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][pos][None]
             + w["embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)])
        x = self.ln(x, "embeddings.LayerNorm")
        fmask = mask.to(self.dtype)
        add_mask = (1.0 - fmask)[:, None, None, :] * torch.finfo(self.dtype).min
        if stats is not None:
            stats.hidden("emb", x, mask)
        for i in range(self.NL):
            p = "encoder.layer.%d." % i

            def heads(t):
                return t.view(B, L, self.NH, self.dh).permute(0, 2, 1, 3)

            q = heads(self.lin(x, p + "attention.self.query"))
            k = heads(self.lin(x, p + "attention.self.key"))
            v = heads(self.lin(x, p + "attention.self.value"))
            # same op order as HF BERT; in place to spare the allocator (big tensors)
            scores = torch.matmul(q, k.transpose(-1, -2))
            scores.div_(math.sqrt(self.dh))
            scores.add_(add_mask)
            probs = torch.softmax(scores, dim=-1)
            if stats is not None:
                stats.attention(i, scores, probs, mask)
            ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, L, self.H)
            x = self.ln(self.lin(ctx, p + "attention.output.dense") + x,
                        p + "attention.output.LayerNorm")
            if stats is not None:
                stats.hidden("L%d.attn_ln" % i, x, mask)
            pre = self.lin(x, p + "intermediate.dense")
            if stats is not None:
                stats.ffn(i, pre, mask)
            inter = F.gelu(pre, approximate="none")
            x = self.ln(self.lin(inter, p + "output.dense") + x, p + "output.LayerNorm")
            if stats is not None:
                stats.hidden("L%d.out_ln" % i, x, mask)
        return self.pool(x, fmask)

    def pool(self, x, fmask):
        m = fmask[:, :, None]
        outs = []
        for mode in self.pool_modes:
            if mode == "cls":
                outs.append(x[:, 0])
            elif mode == "max":
                outs.append(torch.where(m > 0, x, torch.full_like(x, -1e9)).max(dim=1).values)
            else:
                s = (x * m).sum(dim=1)
                n = torch.clamp(m.sum(dim=1), min=1e-9)
                outs.append(s / n if mode == "mean" else s / torch.sqrt(n))
        out = torch.cat(outs, dim=1) if len(outs) > 1 else outs[0]
        if self.normalize:
            out = F.normalize(out, p=2.0, dim=1)
        return out


class Stats:
    """Numerical-behaviour statistics (used to check that generated weights look trained)."""

    def __init__(self):
        self.ent = {}      # layer -> list of [heads] normalized entropies per sentence
        self.maxp = {}
        self.logit_std = {}
        self.hid = {}      # tag -> list of per-token L2 norms
        self.hid_absmax = {}
        self.hid_sq = {}   # tag -> [sum of squares per dim, count]
        self.tags = []
        self.hid_sum = {}  # tag -> sum over tokens (for the shared-direction fraction)
        self.ffn_pos = {}

    def attention(self, i, scores, probs, mask):
        B = probs.shape[0]
        for b in range(B):
            n = int(mask[b].sum())
            pr = probs[b, :, :n, :n].double()
            ent = -(pr * torch.log(pr.clamp_min(1e-300))).sum(-1)       # [NH, n]
            norm = ent.mean(-1) / max(math.log(n), 1e-9)                   # [NH]
            self.ent.setdefault(i, []).append(norm.numpy())
            self.maxp.setdefault(i, []).append(pr.max(-1).values.mean(-1).numpy())
            sc = scores[b, :, :n, :n].double()
            self.logit_std.setdefault(i, []).append(sc.std(-1).mean(-1).numpy())

    def hidden(self, i, x, mask):
        m = mask.bool()
        t = x[m].double()
        if i not in self.hid:
            self.tags.append(i)
            self.hid_sq[i] = [0.0, 0]
            self.hid_sum[i] = 0.0
        self.hid.setdefault(i, []).append(t.norm(dim=-1).numpy())
        self.hid_absmax[i] = max(self.hid_absmax.get(i, 0.0), float(t.abs().max()))
        self.hid_sq[i][0] = self.hid_sq[i][0] + (t * t).sum(0).numpy()
        self.hid_sq[i][1] += t.shape[0]
        self.hid_sum[i] = self.hid_sum[i] + t.sum(0).numpy()

    def ffn(self, i, pre, mask):
        t = pre[mask.bool()]
        self.ffn_pos.setdefault(i, []).append(float((t > 0).double().mean()))

    def report(self, emb):
        print("layer  attn_entropy/log(n) [p10 p50 p90]  mean_max_prob  logit_std  ffn_frac>0")
        for i in sorted(self.ent):
            e = np.concatenate(self.ent[i])
            mp = np.concatenate(self.maxp[i])
            ls = np.concatenate(self.logit_std[i])
            print("  %d    %.2f %.2f %.2f                      %.2f           %.2f       %.2f"
                  % (i, *np.percentile(e, [10, 50, 90]), mp.mean(), ls.mean(),
                     np.mean(self.ffn_pos[i])))
        ent_heads = np.stack([np.stack(self.ent[i]).mean(0) for i in sorted(self.ent)])
        print("per-head mean normalized entropy: min %.2f max %.2f"
              % (ent_heads.min(), ent_heads.max()))
        print("hidden        token L2 norm [p1 p50 p99]  max|x|  |mean token|/rms norm  "
              "top dim rms / median dim rms")
        for i in self.tags:
            h = np.concatenate(self.hid[i])
            rms = np.sqrt(self.hid_sq[i][0] / self.hid_sq[i][1])
            top = np.sort(rms)[::-1][:3] / np.median(rms)
            common = np.linalg.norm(self.hid_sum[i] / self.hid_sq[i][1]) / np.sqrt(
                self.hid_sq[i][0].sum() / self.hid_sq[i][1])
            print("  %-11s %6.1f %6.1f %6.1f    %6.1f    %.2f     %s"
                  % (i, *np.percentile(h, [1, 50, 99]), self.hid_absmax[i], common,
                     " ".join("%.1f" % v for v in top)))
        e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        c = e @ e.T
        iu = np.triu_indices(len(e), 1)
        cs = c[iu]
        print("output pairwise cosine: mean %.3f std %.3f p1 %.3f p99 %.3f (n=%d)"
              % (cs.mean(), cs.std(), *np.percentile(cs, [1, 99]), len(e)))


def read_ids(path):
    out = []
    with open(path) as f:
        for ln, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            ids = json.loads(line)["ids"]
            if not ids:
                raise ValueError("%s:%d: empty ids" % (path, ln))
            out.append([int(t) for t in ids])
    return out


def make_batch(seqs):
    L = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), L), dtype=torch.long)
    mask = torch.zeros((len(seqs), L), dtype=torch.long)
    for j, s in enumerate(seqs):
        ids[j, :len(s)] = torch.tensor(s, dtype=torch.long)
        mask[j, :len(s)] = 1
    return ids, mask


def encode(model, seqs, batch, order=None, stats=None):
    """Length-sorted batches (padding is exact: masked keys get probability 0); the
    result is in input order."""
    n = len(seqs)
    if order is None:
        order = sorted(range(n), key=lambda j: (len(seqs[j]), j))
    out = np.zeros((n, model.dim), dtype=np.float64)
    with torch.no_grad():
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            ids, mask = make_batch([seqs[j] for j in idx])
            out[idx] = model.forward(ids, mask, stats).double().numpy()
    return out


def main():
    ap = argparse.ArgumentParser(description="plain-torch reference encoder")
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--out")
    ap.add_argument("--out64")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--bench", action="store_true", help="fp32 throughput, length-sorted batches")
    ap.add_argument("--stats", action="store_true", help="print attention/activation statistics")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    seqs = read_ids(args.input)

    if args.bench:
        model = Model(args.model, torch.float32)
        encode(model, seqs, args.batch)                      # warm-up
        t0 = time.perf_counter()
        encode(model, seqs, args.batch)
        dt = time.perf_counter() - t0
        ntok = sum(len(s) for s in seqs)
        print(json.dumps({"peer": "torch", "precision": "fp32",
                          "reviews_per_s": round(len(seqs) / dt, 2),
                          "tokens_per_s": round(ntok / dt, 1),
                          "threads": torch.get_num_threads(), "seconds": round(dt, 4),
                          "n": len(seqs), "tokens": ntok}))
        return

    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    model = Model(args.model, dtype)
    stats = Stats() if args.stats else None
    emb = encode(model, seqs, args.batch, stats=stats)
    if stats is not None:
        stats.report(emb)
    if args.out:
        np.save(args.out, emb.astype(np.float32))
    if args.out64:
        np.save(args.out64, emb)
    if not (args.out or args.out64 or args.stats):
        sys.exit("torch_ref: nothing to do (give --out, --out64, --stats or --bench)")


if __name__ == "__main__":
    main()
