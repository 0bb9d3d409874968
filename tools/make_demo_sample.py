#!/usr/bin/python3
"""Cuts the bundled demo sample from the shared Steam corpus (MIT):
every English review of the five games that steamLens's themes.json covers,
up to 2,000 per game, plus 300 reviews of other games and 300 Spanish ones (so
the demo shows skipped apps and the language filter). Deterministic.

usage: tools/make_demo_sample.py [OUT.csv]   (then: zstd -19 OUT.csv)
"""
import csv
import lzma
import os
import random
import sys

import shared_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THEMED = ["391540", "1794680", "239030", "367520", "504230"]
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "data/sample/steam_reviews_sample.csv")
cols = ["app_id", "app_name", "recommendationid", "language", "review", "voted_up", "timestamp_created"]
csv.field_size_limit(1 << 30)
per_game, other, spanish = {g: [] for g in THEMED}, [], []
with lzma.open(shared_data.need(shared_data.STEAM), "rt", encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f):
        if r["language"] == "english" and r["app_id"] in per_game:
            per_game[r["app_id"]].append(r)
        elif r["language"] == "english":
            other.append(r)
        else:
            spanish.append(r)
rng = random.Random(20261123)
rows = []
for g in THEMED:
    rows += rng.sample(per_game[g], min(2000, len(per_game[g])))
rows += rng.sample(other, 300) + rng.sample(spanish, 300)
rows.sort(key=lambda r: (r["app_id"], r["recommendationid"]))
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(cols)
    for r in rows:
        w.writerow([r[c] for c in cols])
print("%d reviews -> %s" % (len(rows), out))
