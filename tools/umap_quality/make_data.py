#!/usr/bin/python3
"""Data for the UMAP quality check.

usage: make_data.py digits OUT.npy
       make_data.py reviews STEAM.csv OUT.csv [N]
digits: scikit-learn's 1,797 8x8 digits as float32 [1797, 64] (labels in
OUT_labels.npy). reviews: N (10,000) English Steam reviews of at least three
words, a seeded random sample of the corpus, as CSV (recommendationid, review).
"""
import csv
import random
import sys

import numpy as np


def digits(out):
    from sklearn.datasets import load_digits

    d = load_digits()
    np.save(out, d.data.astype(np.float32))
    np.save(out.replace(".npy", "_labels.npy"), d.target.astype(np.int32))


def reviews(src, out, n):
    csv.field_size_limit(1 << 30)
    rows = []
    with open(src, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            t = (r.get("review") or "").strip()
            if r.get("language") == "english" and len(t.split()) >= 3:
                rows.append((r["recommendationid"], t))
    random.Random(0).shuffle(rows)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["recommendationid", "review"])
        w.writerows(rows[:n])


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "digits":
        digits(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "reviews":
        reviews(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 10000)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
