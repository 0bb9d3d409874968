#!/usr/bin/env bash
# lens video's OUT/report.html, in headless Chromium (tests/browser/video_report_test.mjs):
# a batch of a clip with a cut, a tone and a silent gap, named with markup,
# quotes and an ampersand in it; a noisy clip without audio (also as
# report.html.mkv, whose folder must not be the page); audio alone; a
# corrupt file;
# and the shipped clips. Then the same command again: every video skipped,
# and the page shows each one as before, byte for byte.
# usage: tests/test_video_report.sh LENS FIXTURES_DIR
set -uo pipefail
LENS=$1 FIX=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
video_setup
browser=$(cd "$(dirname "$0")/browser" && pwd)
[[ -d $browser/node_modules/playwright-core ]] || (cd "$browser" && npm ci --silent --no-audit --no-fund)
X="-c:v libx264 -preset ultrafast -pix_fmt yuv420p"
cd "$work"
mkdir in
NAME=$'clip <script>window.pwned=1;<!--& "q" \'x\''
# a cut at frame 40; 440 Hz with 1.4 s of silence in the middle
gen -f lavfi -i testsrc2=s=320x180:r=25:d=1.6 -f lavfi -i smptebars=s=320x180:r=25:d=1.6 \
    -f lavfi -i "aevalsrc=if(between(t\,1\,2.4)\,0\,0.3*sin(2*PI*440*t)):s=44100:d=3.2" \
    -filter_complex "[0:v][1:v]concat=n=2:v=1[v]" -map "[v]" -map 2:a $X -c:a aac "in/$NAME.mp4"
gen -f lavfi -i mandelbrot=s=320x180:r=25 -t 2 -vf noise=alls=20:allf=t $X in/noaudio.mkv
head -c 20000 /dev/urandom > in/corrupt.mp4
# a video whose folder would be the page's own name gets another
cp in/noaudio.mkv in/report.html.mkv
gen -f lavfi -i sine=f=300:d=2 in/tone.mkv # audio alone: no shots, a curve
$LENS video --analyzers all -o out in "$FIX/video" 2>log.txt
check "exit 1: a video failed" test $? -eq 1
check "report.html written" test -f out/report.html -a -s out/report.html -a -f out/video/video.json
check "schema" vc schema "$ROOT/web/video.schema.json" out/*/video.json
# what the page is checked against is there to check: a silent gap to shade, a noisy shot to flag
check "test data" $PY - <<'PY'
import json, glob
a = json.load(open(glob.glob("out/clip*/video.json")[0]))["audio_analysis"]
assert len(a["silence"]["segments"]) == 1 and len(a["loudness_curve"]["lufs"]) >= 5, a
assert json.load(open("out/noaudio/video.json"))["content_quality"]["shots"][0]["noise"] > 4
h = open("out/report.html").read()
assert 'class="silence"' in h and 'data-flag="noisy"' in h
PY
# the page works from a copy of OUT: thumbnails by relative path
cp -r out copy
check "report.html in Chromium" node "$browser/video_report_test.mjs" copy "$work/report.png" "$NAME"

# resumed: all skipped, each video's section as it was
$LENS video --analyzers all -o out in "$FIX/video" 2>log2.txt
check "resume lists the failure again" grep -q "corrupt.mp4" log2.txt
check "resumed report" $PY - <<'PY'
import json, re
idx = json.load(open("out/index.json"))
assert idx["counts"] == {"done": 0, "skipped": 7, "failed": 1}, idx["counts"]
a, b = open("copy/report.html").read(), open("out/report.html").read()
sec = lambda h: h[h.index('<section class="video"'):]
assert sec(a) == sec(b), "sections differ after resuming"
assert len(re.findall(r'<tr class="video" data-status="skipped">', b)) == 7
PY
finish video_report
