#!/usr/bin/env bash
# Analyze benchmark: lens analyze end to end on the English reviews of the
# shared data's themed games, with the MiniLM-geometry encoder; prints
# reviews/s, each phase's share of the run and peak RSS. With ALL=1 it runs
# all 272k English reviews of all 167 games: steamLens's themes.json covers 5
# of them, so every other game gets a generic theme set (written next to the
# output) and the themed games keep theirs.
# MODEL=static runs the bundled static model instead. It also reports the
# largest size the checkpoint journal reached during the run.
# Env: PRECISION (default int8), THREADS (default all CPUs), ALL=1, MODEL=static.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source "$root/bench/shared.sh"
need_shared data/steam/steam_reviews_willyuft.csv.xz
out=build/bench/analyze
mkdir -p "$out"
tests/gen_models.sh build/models
input=$out/reviews.csv
/usr/bin/python3 - "$shared/data/steam/steam_reviews_willyuft.csv.xz" "data/themes/steamlens_game_themes.json" "$input" "${ALL:-0}" <<'PY'
import csv, json, lzma, sys
csv.field_size_limit(1 << 30)
themes = json.load(open(sys.argv[2]))
keep_all = sys.argv[4] == "1"
with lzma.open(sys.argv[1], "rt", encoding="utf-8", newline="") as f, open(sys.argv[3], "w", newline="", encoding="utf-8") as o:
    r = csv.DictReader(f); w = csv.DictWriter(o, fieldnames=r.fieldnames); w.writeheader()
    for row in r:
        if keep_all or row["app_id"] in themes: w.writerow(row)
PY
themes=data/themes/steamlens_game_themes.json
if [[ ${ALL:-0} == 1 ]]; then
    themes=$out/all_themes.json
    /usr/bin/python3 - "$input" "data/themes/steamlens_game_themes.json" "$themes" <<'PY'
import csv, json, sys
csv.field_size_limit(1 << 30)
seed = json.load(open(sys.argv[2]))
generic = {
    "gameplay": ["gameplay", "mechanics", "controls", "game loop", "fun to play"],
    "story": ["story", "plot", "characters", "writing", "ending", "lore"],
    "graphics": ["graphics", "visuals", "art style", "animation", "looks beautiful"],
    "audio": ["music", "soundtrack", "sound effects", "voice acting"],
    "performance": ["performance", "fps", "lag", "stutter", "optimization", "crashes"],
    "bugs": ["bugs", "glitches", "broken", "unplayable", "patch"],
    "difficulty": ["difficulty", "too hard", "too easy", "challenge", "grind"],
    "multiplayer": ["multiplayer", "online", "co-op", "servers", "matchmaking", "friends"],
    "price": ["price", "worth the money", "on sale", "expensive", "dlc", "microtransactions"],
    "content": ["content", "length", "hours", "replayability", "updates"],
}
apps = {r["app_id"] for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8"))}
json.dump({a: seed.get(a, generic) for a in sorted(apps, key=int)}, open(sys.argv[3], "w"), ensure_ascii=False, indent=1)
PY
fi
log=$out/log.txt
model=build/models/minilm-gen
[[ ${MODEL:-} == static ]] && model=models/steam-static
rm -rf "$out/result"
/usr/bin/time -v build/lens analyze --themes "$themes" \
    --model "$model" --precision "${PRECISION:-int8}" ${THREADS:+--threads $THREADS} \
    -o "$out/result" "$input" 2> "$log" &
pid=$!
peak=0 # the checkpoint journal's largest size, sampled
while kill -0 $pid 2>/dev/null; do
    s=$(stat -c %s "$out/result/.lens-checkpoint/journal" 2>/dev/null || echo 0)
    (( s > peak )) && peak=$s
    sleep 0.2
done
wait $pid
echo "model: $model; checkpoint journal peaked at $((peak / 1048576)) MB"
grep "^analyze:" "$log"
/usr/bin/python3 - "$log" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
line = next(l for l in t.splitlines() if l.startswith("analyze:"))
total = float(re.search(r" in ([0-9.]+)s", line).group(1))
analyzed = int(re.search(r"([0-9]+) analyzed", line).group(1))
ph = dict((k, float(v)) for v, k in [(m.group(2), m.group(1)) for m in re.finditer(r"(read|embed|assign|summarize|write) ([0-9.]+)s", line)])
rss = int(re.search(r"Maximum resident set size \(kbytes\): ([0-9]+)", t).group(1))
print("%d reviews analysed in %.1fs: %.0f reviews/s; peak RSS %.0f MB" % (analyzed, total, analyzed / total, rss / 1024))
for k in ("read", "embed", "assign", "summarize", "write"):
    print("  %-10s %6.1fs  %5.1f%%" % (k, ph.get(k, 0), 100 * ph.get(k, 0) / total))
print("  outside the encoder: %.1f%%" % (100 * (total - ph.get("embed", 0)) / total))
PY
