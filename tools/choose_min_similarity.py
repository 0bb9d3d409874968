#!/usr/bin/python3
"""Chooses a model's default --min-similarity from the Steam data.

Runs `lens analyze` with no threshold over the English reviews of the games
steamLens's themes.json covers, then looks at the reviews whose text names
one of the keywords of the theme they were assigned to: they are about that
theme by their own words. The default is the similarity below which only 5%
of them fall, so it keeps 95% of clearly on-theme reviews and sends to
`unassigned` what resembles its best theme less than they do.

usage: tools/choose_min_similarity.py MODEL [--write]
  --write  stores the value as "min_similarity" in MODEL/config.json
(run from the repository root after `make build`; needs ../shared)
"""
import csv
import json
import lzma
import os
import re
import subprocess
import sys
import tempfile

import shared_data

csv.field_size_limit(1 << 30)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THEMES = os.path.join(ROOT, "data/themes/steamlens_game_themes.json")
DATA = shared_data.need(shared_data.STEAM)
PERCENTILE = 5


def norm(s):
    # themes.json writes some keywords with non-breaking hyphens
    return s.lower().replace("\u2011", "-").replace("\u2010", "-")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    model = sys.argv[1]
    themes = json.load(open(THEMES, encoding="utf-8"))
    pats = {(a, t): re.compile(r"(?<!\w)(" + "|".join(re.escape(norm(k)) for k in kws) + r")(?!\w)")
            for a, ts in themes.items() for t, kws in ts.items()}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "reviews.csv")
        text = {}
        with lzma.open(DATA, "rt", encoding="utf-8", newline="") as f, open(src, "w", newline="", encoding="utf-8") as o:
            r = csv.DictReader(f)
            w = csv.DictWriter(o, fieldnames=r.fieldnames)
            w.writeheader()
            for row in r:
                if row["app_id"] in themes and row["language"] == "english":
                    w.writerow(row)
                    text[row["recommendationid"]] = row["review"]
        subprocess.run([os.path.join(ROOT, "build/lens"), "analyze", "--themes", THEMES, "--model", model,
                        "--min-similarity", "-1", "--quotes", "0", "-o", os.path.join(tmp, "out"), src],
                       check=True, stderr=subprocess.DEVNULL)
        rows = list(csv.DictReader(open(os.path.join(tmp, "out/assignments.csv"), newline="", encoding="utf-8")))
    sims, named = [], []
    for a in rows:
        if a["theme"] == "unassigned":  # a review of only unknown words
            continue
        s = float(a["similarity"])
        sims.append(s)
        if pats[(a["app_id"], a["theme"])].search(norm(text[a["review_id"]])):
            named.append(s)
    named.sort()
    t = round(named[len(named) * PERCENTILE // 100], 2)
    below = sum(s < t for s in sims) / len(sims)
    print(json.dumps({"model": model, "reviews": len(sims), "naming_their_theme": len(named),
                      "min_similarity": t, "share_unassigned": round(below, 4)}))
    if "--write" in sys.argv:
        path = os.path.join(model, "config.json")
        cfg = json.load(open(path, encoding="utf-8"))
        cfg["min_similarity"] = t
        cfg["min_similarity_source"] = ("tools/choose_min_similarity.py: %dth percentile of the similarity of "
                                        "reviews that name a keyword of their theme" % PERCENTILE)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
