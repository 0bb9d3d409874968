#!/usr/bin/python3
"""Export a sentence-transformers BERT model directory to ONNX (float32), for the
onnxruntime peer of the encoder benchmark.

    tools/export_onnx.py --model DIR --out model.onnx [--opset 14]

The graph is the same math as tools/torch_ref.py (its Model class reads the weights and
the sentence-transformers configs), written as a torch nn.Module and exported with
torch.onnx.export.  Inputs input_ids, attention_mask, token_type_ids: int64 [batch, seq]
(dynamic); output sentence_embedding: float32 [batch, dim], pooled (and L2-normalized
when the model has a Normalize module).  No transformers library, no onnx package needed.
"""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ref import Model  # noqa: E402


class Encoder(torch.nn.Module):
    def __init__(self, ref):
        super().__init__()
        self.H, self.NH, self.NL, self.dh = ref.H, ref.NH, ref.NL, ref.dh
        self.eps = ref.eps
        self.pool_modes = list(ref.pool_modes)
        self.normalize = ref.normalize
        self.names = {}
        for k, v in ref.w.items():
            if k.startswith("pooler."):
                continue
            n = k.replace(".", "_")
            self.names[k] = n
            self.register_buffer(n, v.to(torch.float32).clone())

    def p(self, k):
        return getattr(self, self.names[k])

    def ln(self, x, pre):
        return F.layer_norm(x, (self.H,), self.p(pre + ".weight"), self.p(pre + ".bias"),
                            self.eps)

    def lin(self, x, pre):
        return torch.matmul(x, self.p(pre + ".weight").t()) + self.p(pre + ".bias")

    def forward(self, input_ids, attention_mask, token_type_ids):
        B = input_ids.shape[0]
        L = input_ids.shape[1]
        pos = torch.cumsum(torch.ones_like(input_ids), dim=1) - 1
        x = (F.embedding(input_ids, self.p("embeddings.word_embeddings.weight"))
             + F.embedding(pos, self.p("embeddings.position_embeddings.weight"))
             + F.embedding(token_type_ids, self.p("embeddings.token_type_embeddings.weight")))
        x = self.ln(x, "embeddings.LayerNorm")
        fmask = attention_mask.to(torch.float32)
        add_mask = (1.0 - fmask)[:, None, None, :] * torch.finfo(torch.float32).min
        for i in range(self.NL):
            p = "encoder.layer.%d." % i

            def heads(t):
                return t.reshape(B, L, self.NH, self.dh).permute(0, 2, 1, 3)

            q = heads(self.lin(x, p + "attention.self.query"))
            k = heads(self.lin(x, p + "attention.self.key"))
            v = heads(self.lin(x, p + "attention.self.value"))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh) + add_mask
            probs = torch.softmax(scores, dim=-1)
            ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, L, self.H)
            x = self.ln(self.lin(ctx, p + "attention.output.dense") + x,
                        p + "attention.output.LayerNorm")
            inter = F.gelu(self.lin(x, p + "intermediate.dense"), approximate="none")
            x = self.ln(self.lin(inter, p + "output.dense") + x, p + "output.LayerNorm")
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
            out = out / torch.clamp(torch.norm(out, p=2, dim=1, keepdim=True), min=1e-12)
        return out


def main():
    ap = argparse.ArgumentParser(description="export a BERT sentence encoder to ONNX")
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=14)
    args = ap.parse_args()
    ref = Model(args.model, torch.float32)
    enc = Encoder(ref).eval()
    ids = torch.tensor([[101, 7592, 2088, 1012, 102, 0], [101, 2204, 2208, 999, 999, 102]],
                       dtype=torch.long)
    mask = (ids != 0).long()
    mask[1, :] = 1
    tt = torch.zeros_like(ids)
    with torch.no_grad():
        got = enc(ids, mask, tt)
        want = ref.forward(ids, mask)
    err = float((got - want).abs().max())
    if err > 1e-5:
        sys.exit("export_onnx: module differs from torch_ref by %g" % err)
    dyn = {"input_ids": {0: "batch", 1: "sequence"},
           "attention_mask": {0: "batch", 1: "sequence"},
           "token_type_ids": {0: "batch", 1: "sequence"},
           "sentence_embedding": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(enc, (ids, mask, tt), args.out,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["sentence_embedding"], dynamic_axes=dyn,
                          opset_version=args.opset, do_constant_folding=True)
    print("export_onnx: %s (opset %d, dim %d, %d bytes)"
          % (args.out, args.opset, ref.dim, os.path.getsize(args.out)))


if __name__ == "__main__":
    main()
