#!/usr/bin/env bash
# lens video benchmark: realtime factor (video seconds per wall second) of
# decode alone (--analyzers none), of each analyzer alone (cut_analysis
# always runs: the others' rows include it), and of all together, next to
# `ffmpeg -threads N -i X -f null -` on the same file in the same run, for
# each clip in ../shared/data/video and for a generated 1080p30 h264 clip of
# 60 s; then peak RSS of a 10-minute video against a 1-minute one (the 60 s
# clip, and it 10 times over, stream-copied). Wall time and peak RSS are
# /usr/bin/time's for the whole command, so lens's start-up and writing count;
# so is CPU time (user + system), which other work on a shared machine
# disturbs far less than wall time: "CPU vs ffmpeg" is ffmpeg's CPU seconds
# over lens's on the same file, what the realtime ratio would be on idle cores.
# Generated clips are cached in build/bench/video. Prints a markdown table and
# writes build/bench/video.jsonl. Not a test: it takes minutes.
# Env: THREADS (default: all CPUs), LENS (default build/lens), REPS (timed
#      runs of each row, best kept; default 2), LENS_SHARED, CLIPS (names of
#      the clips to run, of the three shared ones and gen_1080p30_60s.mp4;
#      default all), MEMORY (0: skip the 10-minute memory run; default 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source bench/shared.sh
threads=${THREADS:-$(nproc)}
lens=${LENS:-build/lens}
reps=${REPS:-2}
all_clips="bbb_180p_10s.webm sintel_clip_26s_848x480.mp4 sintel_trailer_52s_480x204.mp4 gen_1080p30_60s.mp4"
want=${CLIPS:-$all_clips}
memory=${MEMORY:-1}
for c in $want; do
    [[ " $all_clips " = *" $c "* ]] || { echo "$0: unknown clip $c (known: $all_clips)" >&2; exit 2; }
done
clips=
for c in $want; do [[ $c = gen_1080p30_60s.mp4 ]] || clips="$clips $c"; done
for c in $clips; do need_shared data/video/$c; done
[[ -x $lens ]] || { echo "$0: $lens is missing: make build" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "$0: the ffmpeg CLI is needed (apt-get install ffmpeg)" >&2; exit 2; }
cache=build/bench/video
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
res=build/bench/video.jsonl
: > "$res"

gen=$cache/gen_1080p30_60s.mp4
if [[ ! -s $gen ]]; then
    echo "generating $gen (once)..." >&2
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=s=1920x1080:r=30:d=60 -f lavfi -i sine=f=440:d=60 \
        -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -c:a aac -shortest "$gen.tmp.mp4"
    mv "$gen.tmp.mp4" "$gen"
fi
long=$cache/gen_1080p30_600s.mp4
if [[ $memory != 0 && ! -s $long ]]; then
    for i in $(seq 10); do echo "file '$(realpath "$gen")'"; done > "$work/list.txt"
    ffmpeg -nostdin -v error -y -f concat -safe 0 -i "$work/list.txt" -c copy "$long.tmp.mp4"
    mv "$long.tmp.mp4" "$long"
fi

# the analyzers lens knows, from its own error message
names=$("$lens" video --analyzers '?' -o "$work/x" /dev/null 2>&1 | sed -n 's/.*(known: \(.*\), all).*/\1/p' | tr -d ' ' || true)
[[ -n $names ]] || { echo "$0: cannot list lens's analyzers" >&2; exit 1; }

# timed CMD...: the best of $reps runs; sets wall (s), cpu (s) and rss (KiB)
timed() {
    local best= brss= bcpu=
    for _ in $(seq "$reps"); do
        rm -rf "$work/out"
        /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
        read -r w m u s < "$work/time"
        if [[ -z $best ]] || awk -v a="$w" -v b="$best" 'BEGIN{exit !(a<b)}'; then
            best=$w brss=$m bcpu=$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')
        fi
    done
    wall=$best rss=$brss cpu=$bcpu
}
dur() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }

model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "lens video benchmark, $(date -u +%F), $model, $(nproc) CPUs, $threads threads, best of $reps" >&2
printf '\n| clip | run | wall s | realtime | vs ffmpeg | CPU s | CPU vs ffmpeg | peak RSS MiB |\n|---|---|---|---|---|---|---|---|\n'
row() { # clip run wall rss duration ffmpeg_wall cpu ffmpeg_cpu
    local rt vs cvs
    rt=$(awk -v d="$5" -v w="$3" 'BEGIN{printf "%.1f", d/w}')
    vs=$(awk -v f="$6" -v w="$3" 'BEGIN{printf "%.0f%%", 100*f/w}')
    cvs=$(awk -v f="$8" -v c="$7" 'BEGIN{printf "%.0f%%", 100*f/c}')
    printf '| %s | %s | %s | %sx | %s | %s | %s | %.0f |\n' "$1" "$2" "$3" "$rt" "$vs" "$7" "$cvs" "$(awk -v m="$4" 'BEGIN{print m/1024}')"
    printf '{"clip":"%s","run":"%s","threads":%s,"wall_s":%s,"cpu_s":%s,"rss_kib":%s,"duration_s":%s,"realtime":%s,"vs_ffmpeg":%s,"cpu_vs_ffmpeg":%s}\n' \
        "$1" "$2" "$threads" "$3" "$7" "$4" "$5" "$rt" "$(awk -v f="$6" -v w="$3" 'BEGIN{print f/w}')" \
        "$(awk -v f="$8" -v c="$7" 'BEGIN{print f/c}')" >> "$res"
}
paths=$(for c in $clips; do echo "$shared/data/video/$c"; done)
[[ " $want " = *" gen_1080p30_60s.mp4 "* ]] && paths="$paths $gen"
for path in $paths; do
    name=$(basename "$path")
    d=$(dur "$path")
    timed ffmpeg -nostdin -v error -threads "$threads" -i "$path" -f null -
    fw=$wall fc=$cpu
    row "$name" "ffmpeg -f null" "$wall" "$rss" "$d" "$fw" "$cpu" "$fc"
    runs="none ${names//,/ } all"
    for a in $runs; do
        timed "$lens" video --threads "$threads" --analyzers "$a" -o "$work/out" "$path"
        label=$a
        [[ $a = none ]] && label="lens decode alone"
        row "$name" "$label" "$wall" "$rss" "$d" "$fw" "$cpu" "$fc"
    done
done

# memory: bounded by a few frames, not by the video's length
[[ $memory != 0 ]] || exit 0
reps=1
timed "$lens" video --threads "$threads" -o "$work/out" "$gen"
r1=$rss w1=$wall
timed "$lens" video --threads "$threads" -o "$work/out" "$long"
r10=$rss w10=$wall
echo
awk -v a="$r1" -v b="$r10" -v w1="$w1" -v w10="$w10" 'BEGIN{
    printf "peak RSS, all analyzers, 1080p30: 1 min %.1f MiB (%.1f s), 10 min %.1f MiB (%.1f s): %+.1f%%\n", a/1024, w1, b/1024, w10, 100*(b-a)/a}'
printf '{"rss_1min_kib":%s,"rss_10min_kib":%s,"wall_1min_s":%s,"wall_10min_s":%s}\n' "$r1" "$r10" "$w1" "$w10" >> "$res"
