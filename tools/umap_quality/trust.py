#!/usr/bin/python3
"""Trustworthiness (sklearn.manifold.trustworthiness, k neighbours) of
embeddings of one data set: prints one line per embedding, "FILE<TAB>T".

usage: trust.py DATA.npy EMB... [--k 10] [--metric euclidean|cosine]
EMB is a .npy [n, 2|3] or a CSV as `lens project` writes (id,x,y[,z]).
"""
import sys

import numpy as np
from sklearn.manifold import trustworthiness


def main(argv):
    k, metric, files = 10, "euclidean", []
    i = 0
    while i < len(argv):
        if argv[i] == "--k":
            k = int(argv[i + 1]); i += 2
        elif argv[i] == "--metric":
            metric = argv[i + 1]; i += 2
        else:
            files.append(argv[i]); i += 1
    if len(files) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    x = np.load(files[0]).astype(np.float64)
    for f in files[1:]:
        if f.endswith(".csv"):
            y = np.loadtxt(f, delimiter=",", skiprows=1, usecols=None, dtype=str)[:, 1:].astype(np.float64)
        else:
            y = np.load(f).astype(np.float64)
        if y.shape[0] != x.shape[0]:
            print(f"{f}: {y.shape[0]} rows, data has {x.shape[0]}", file=sys.stderr)
            return 1
        t = trustworthiness(x, y, n_neighbors=k, metric=metric)
        print(f"{f}\t{t:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
