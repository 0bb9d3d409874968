"""The large shared data that the regeneration tools read and a clone does not
carry: LENS_SHARED (default <repo>/../shared). need(REL) returns its path, or
exits with one line saying what the file is and where to get it."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LENS_SHARED") or os.path.join(ROOT, "..", "shared")
STEAM = "data/steam/steam_reviews_willyuft.csv.xz"
_SOURCES = {STEAM: "309,991 Steam reviews (MIT) from github.com/WillyUFT/An-lisis-de-rese-as-de-Steam-utlilizando-Python, "
                   "data/review_*.json, as one xz CSV"}


def need(rel):
    path = os.path.join(SHARED, rel)
    if not os.path.exists(path):
        sys.exit("%s: %s is missing: it is %s; put it there or set LENS_SHARED to the folder that holds data/"
                 % (os.path.basename(sys.argv[0]), path, _SOURCES.get(rel, "the project's shared assets")))
    return path
