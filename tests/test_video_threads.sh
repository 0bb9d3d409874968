#!/usr/bin/env bash
# lens video's analyzers on the thread pool give what a serial run gives:
# video.json byte-identical (but for wall_s and realtime_factor, which are
# timings) and the same thumbnails with --threads 1 and --threads 2, on a
# generated clip with cuts, a fade, a flash and audio, shown rotated, and
# on a shipped clip; all analyzers (--analyzers all), audio included.
# usage: tests/test_video_threads.sh LENS FIXTURES_DIR
set -uo pipefail
LENS=$1 FIX=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
video_setup
cd "$work"
S=160x90
# cuts at 50 and 100, a fade to black and back, a white flash at 3.5 s, a sine track
gen -f lavfi -i testsrc2=s=$S:r=25:d=2 -f lavfi -i mandelbrot=s=$S:r=25 -f lavfi -i smptehdbars=s=$S:r=25:d=2 \
    -f lavfi -i sine=f=440:d=6 -filter_complex \
    "[1]trim=duration=2,setpts=PTS-STARTPTS[m];[0][m][2]concat=n=3:v=1:a=0,fade=t=out:st=4.4:d=0.4,fade=t=in:st=4.8:d=0.4,drawbox=enable='between(t,3.48,3.52)':c=white:t=fill,format=yuv420p[v]" \
    -map '[v]' -map 3:a -c:v libx264 -preset ultrafast -c:a aac -shortest mixed.mp4
gen -i mixed.mp4 -c copy -metadata:s:v:0 rotate=90 mixed_rot.mp4
mkdir in
cp mixed.mp4 mixed_rot.mp4 "$FIX/video/sintel_clip_26s_848x480.mp4" in/

for n in 1 2; do
    check "--threads $n: runs" "$LENS" video --threads $n --analyzers all -o out$n in >/dev/null 2>log$n || cat log$n >&2
done
# timings apart, the same bytes
strip() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); [d.pop(k,None) for k in ("wall_s","realtime_factor")]; print(json.dumps(d))' "$1"; }
for v in mixed mixed_rot sintel_clip_26s_848x480; do
    check "$v: video.json follows the schema" vc schema "$SCHEMA" out2/$v/video.json
    check "$v: all five analyzers ran" $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); n=["cut_analysis","content_quality","color_analysis","camera_analysis","audio_analysis"]; sys.exit(not (d["options"]["analyzers"]==n and all(k in d for k in n)))' out2/$v/video.json
    a=$(strip out1/$v/video.json) b=$(strip out2/$v/video.json)
    check "$v: video.json with --threads 2 = with --threads 1 (timings apart)" test -n "$a" -a "$a" = "$b"
    check "$v: thumbnails written" test -s out2/$v/shot_0000.jpg
    check "$v: the same thumbnails" diff -r <(cd out1/$v && cksum *.jpg) <(cd out2/$v && cksum *.jpg)
    # the bytes of the file itself, timing lines apart
    check "$v: byte-identical but for timing lines" test -s out1/$v/video.json -a -s out2/$v/video.json
    check "$v: byte-identical but for timing lines" cmp -s <(grep -v '"wall_s"\|"realtime_factor"' out1/$v/video.json) \
        <(grep -v '"wall_s"\|"realtime_factor"' out2/$v/video.json)
done
# the audio reached audio_analysis (16 kHz and native-rate paths both queued behind frames in flight)
check "mixed: audio analyzed" $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not d["has_audio"] or not d["audio_analysis"])' out2/mixed/video.json
finish test_video_threads
