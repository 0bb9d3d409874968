#!/usr/bin/python3
"""Quality check of a lens-static model (numpy only).

1. Nearest neighbours of game words among the word vectors (cosine).
2. Leave-one-out keyword -> theme classification on the steamLens themes:
   every keyword is embedded by `lens embed` (the C path lens analyze uses),
   each theme's centroid is the normalised mean of its keywords' vectors
   (without the held-out keyword for its own theme), and the keyword goes
   to the most similar theme of its game. Keywords with no known word are
   counted as unknown and left out.

usage: tools/eval_static.py [--model DIR] [--lens BIN] [--themes JSON]
defaults: models/steam-static, build/lens, data/themes/steamlens_game_themes.json
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBES = ["graphics", "bug", "multiplayer", "story", "price", "music", "controls", "crash",
          "servers", "boring", "fun", "devs", "grind", "dlc", "optimization", "coop"]
PAIRS = [("graphics", "visuals"), ("bug", "glitch"), ("multiplayer", "coop"), ("crash", "crashes"),
         ("price", "expensive"), ("music", "soundtrack"), ("story", "plot"), ("boring", "tedious")]
# games of the themes file that are in the Steam reviews the shipped model was trained on
IN_DATA = {"391540", "1794680", "239030", "367520", "504230"}


def load_model(d):
    words = open(os.path.join(d, "vocab.txt"), encoding="utf-8").read().split("\n")
    if words and words[-1] == "":
        words.pop()
    with open(os.path.join(d, "model.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        data = f.read()
    t = hdr["vectors"]
    lo, hi = t["data_offsets"]
    dt = {"F16": np.float16, "F32": np.float32}[t["dtype"]]
    vec = np.frombuffer(data[lo:hi], dtype=dt).reshape(t["shape"]).astype(np.float32)
    return words, vec


def neighbours(words, vec):
    index = {w: i for i, w in enumerate(words)}
    unit = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
    print("nearest neighbours (cosine of word vectors):")
    for w in PROBES:
        if w not in index:
            print(f"  {w:13s} (not in vocabulary)")
            continue
        s = unit @ unit[index[w]]
        top = [i for i in np.argsort(-s) if i != index[w]][:8]
        print(f"  {w:13s} " + ", ".join(f"{words[i]} {s[i]:.2f}" for i in top))
    print("pairs (cosine; rank of the second word among the first's neighbours):")
    for a, b in PAIRS:
        if a not in index or b not in index:
            print(f"  {a} ~ {b}: not in vocabulary")
            continue
        s = unit @ unit[index[a]]
        rank = int((s > s[index[b]]).sum())  # the word itself is rank 0
        print(f"  {a:12s} ~ {b:12s} cos {s[index[b]]:.3f}  rank {rank} of {len(words) - 1}")


def embed(lens, model, texts):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "kw.txt"), os.path.join(tmp, "kw.npy")
        with open(src, "w", encoding="utf-8") as f:
            for t in texts:
                f.write(t.replace("\n", " ") + "\n")
        subprocess.run([lens, "embed", "--model", model, "--threads", "2", src, "-o", dst], check=True,
                       stderr=subprocess.DEVNULL)
        return np.load(dst)


def themes_loo(lens, model, path):
    themes = json.load(open(path, encoding="utf-8"))
    texts = [kw for app in themes.values() for kws in app.values() for kw in kws]
    emb = embed(lens, model, texts)
    known = np.linalg.norm(emb, axis=1) > 0.5
    k = 0
    stats = {"all": [0, 0, 0, 0.0], "in Steam data": [0, 0, 0, 0.0]}  # right, tried, unknown, chance
    for app_id, app in themes.items():
        rows = []
        for kws in app.values():
            rows.append(list(range(k, k + len(kws))))
            k += len(kws)
        sums = [emb[r][known[r]].sum(axis=0) for r in rows]
        cnts = [int(known[r].sum()) for r in rows]
        for t, r in enumerate(rows):
            for i in r:
                groups = ["all"] + (["in Steam data"] if app_id in IN_DATA else [])
                if not known[i]:
                    for g in groups:
                        stats[g][2] += 1
                    continue
                if cnts[t] < 2:
                    continue
                cents = []
                for u in range(len(rows)):
                    c = sums[u] - (emb[i] if u == t else 0)
                    n = np.linalg.norm(c)
                    cents.append(c / n if n > 0 else c)
                sims = np.array(cents) @ emb[i]
                sims[[u for u in range(len(rows)) if cnts[u] - (u == t) == 0]] = -2
                for g in groups:
                    stats[g][0] += int(np.argmax(sims) == t)
                    stats[g][1] += 1
                    stats[g][3] += 1.0 / sum(1 for u in range(len(rows)) if cnts[u] - (u == t) > 0)
    print("leave-one-out keyword -> theme classification:")
    for g, (right, tried, unknown, chance) in stats.items():
        if tried:
            print(f"  {g:14s} accuracy {right / tried:.3f} ({right}/{tried}), chance {chance / tried:.3f}, "
                  f"{unknown} keywords with no known word left out")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(REPO, "models", "steam-static"))
    ap.add_argument("--lens", default=os.path.join(REPO, "build", "lens"))
    ap.add_argument("--themes", default=os.path.join(REPO, "data", "themes", "steamlens_game_themes.json"))
    a = ap.parse_args()
    words, vec = load_model(a.model)
    print(f"model {os.path.basename(os.path.normpath(a.model))}: {len(words)} words x {vec.shape[1]} dims")
    neighbours(words, vec)
    themes_loo(a.lens, a.model, a.themes)


if __name__ == "__main__":
    sys.exit(main())
