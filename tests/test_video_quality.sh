#!/usr/bin/env bash
# content_quality's noise, exposure clipping and blockiness on a clean
# source (FFmpeg's mandelbrot, nearly lossless h264) and its degradations:
#   - noise=alls=20 raises the noise measure (a clean source scores < 1);
#   - an MPEG-2 re-encode at q 31 raises blockiness (clean: about 1);
#   - eq=brightness=+0.5 raises white clipping, -0.5 black clipping (clean: 0);
# per video and per shot, and every video.json follows the schema.
# usage: tests/test_video_quality.sh LENS
set -uo pipefail
LENS=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
video_setup
X="-c:v libx264 -preset ultrafast -pix_fmt yuv420p -crf 16"
cd "$work"
mkdir in
gen -f lavfi -i mandelbrot=s=320x180:r=25 -t 2 $X in/clean.mp4
gen -i in/clean.mp4 -vf noise=alls=20:allf=t $X in/noisy.mp4
gen -i in/clean.mp4 -c:v mpeg2video -q:v 31 -qmin 31 in/blocky.mpg
gen -i in/clean.mp4 -vf eq=brightness=0.5 $X in/bright.mp4
gen -i in/clean.mp4 -vf eq=brightness=-0.5 $X in/dark.mp4
# a clean picture at 640x360, scaled to 320 for the other measures: the
# block grid is measured on the decoder's own picture
gen -f lavfi -i mandelbrot=s=640x360:r=25 -t 1 $X in/clean_hd.mp4
gen -i in/clean_hd.mp4 -c:v mpeg2video -q:v 31 -qmin 31 in/blocky_hd.mpg
$LENS video --analyzers content_quality -o out in/* 2>log.txt
check "all analyzed" test $? -eq 0
check "schema" vc schema "$SCHEMA" out/*/video.json

check "measures move the right way" $PY - <<'PY'
import json
m = {n: json.load(open('out/%s/video.json' % n))['content_quality'] for n in
     ('clean', 'noisy', 'blocky', 'bright', 'dark', 'clean_hd', 'blocky_hd')}
v = {n: q['measures'] for n, q in m.items()}
for n, x in v.items(): print(n, {k: x[k] for k in ('noise', 'clipped_dark', 'clipped_bright', 'blockiness')})
c = v['clean']
assert c['noise'] < 1 and c['clipped_dark'] == 0 and c['clipped_bright'] == 0 and c['blockiness'] < 1.2, c
assert v['noisy']['noise'] > 5, v['noisy']
assert v['blocky']['blockiness'] > 1.8, v['blocky']
assert v['blocky_hd']['blockiness'] > 1.8 and v['clean_hd']['blockiness'] < 1.2, (v['clean_hd'], v['blocky_hd'])
assert v['bright']['clipped_bright'] > 0.3 and v['bright']['clipped_dark'] == 0, v['bright']
assert v['dark']['clipped_dark'] > 0.3 and v['dark']['clipped_bright'] == 0, v['dark']
assert v['bright']['max_clipped_bright'] >= v['bright']['clipped_bright']
# per shot (one shot each): the same figures
for n, q in m.items():
    s = q['shots'][0]
    for k in ('noise', 'clipped_dark', 'clipped_bright', 'blockiness'):
        assert abs(s[k] - q['measures'][k]) < 1e-3, (n, k, s[k], q['measures'][k])
PY

finish video_quality
