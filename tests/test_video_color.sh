#!/usr/bin/env bash
# End-to-end tests of lens video's color_analysis and camera_analysis on
# videos made here by FFmpeg's filters, where the truth is known by
# construction:
#   - colour: two flat colours side by side (70/30) give those two dominant
#     colours at those shares; pad filter bars are found with their size in
#     source pixels; a desaturated copy (hue=s=0) scores lower saturation and
#     colourfulness; a warm tint is warmer than a cool one; per shot, across
#     a cut;
#   - camera: a crop window moved at a known speed over a large still
#     texture (pan right/left, tilt up/down), zoompan in and out at a known
#     rate, a still window, a randomly jittered one: direction always right,
#     magnitude within 10%, per shot across a cut;
#   - every video.json follows web/video.schema.json.
# usage: tests/test_video_color.sh LENS
set -uo pipefail
LENS=$1
work=$(mktemp -d)
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT; [[ -n ${KEEP:-} ]] && echo "work: $work"
source "$(dirname "$0")/lib.sh"
video_setup
X="-c:v libx264 -preset ultrafast -pix_fmt yuv420p"
# py VIDEO_JSON EXPR: EXPR true, with j the video.json, C its color_analysis,
# M its camera_analysis shots, near(a, b, tol) |a - b| <= tol
py() {
    $PY -c "
import json, sys
j = json.load(open(sys.argv[1])); C = j.get('color_analysis'); M = (j.get('camera_analysis') or {}).get('shots')
def near(a, b, tol): return abs(a - b) <= tol
import ast
tree = ast.parse(sys.argv[2].strip())
env = dict(j=j, C=C, M=M, near=near, json=json)
exec(compile(ast.Module(tree.body[:-1], []), 'check', 'exec'), env)
ok = eval(compile(ast.Expression(tree.body[-1].value), 'check', 'eval'), env)
if not ok: print(sys.argv[1], sys.argv[2], json.dumps(C if C else M)[:1500])
sys.exit(0 if ok else 1)" "$@"
}
cd "$work"

# ---- colour ----
# one ffmpeg run (each costs a start): 224 + 96 columns of 320, 70% #2050c0 and
# 30% #e0a020; the bars padded to 320x240 (30 rows above and below) and to
# 400x180 (40 columns each side); a desaturated copy and its tints, less
# blue (warm) and less red (cool); two shots: the bars, then the split
gen -f lavfi -i "color=c=0x2050c0:s=224x180:r=25:d=2" -f lavfi -i "color=c=0xe0a020:s=96x180:r=25:d=2" \
    -f lavfi -i "testsrc2=s=320x180:r=25:d=2" -filter_complex \
    "[0][1]hstack,split[sp][sp2];[2]split=7[a][b][c][d][e][f][g];[b]pad=320:240:0:30:black[lb];[c]pad=400:180:40:0:black[pb];
     [d]hue=s=0[gr];[e]hue=s=0,colorchannelmixer=bb=0.75[wm];[f]hue=s=0,colorchannelmixer=rr=0.75[cl];[g][sp2]concat=n=2:v=1:a=0[two]" \
    -map "[sp]" $X split.mp4 -map "[a]" $X src.mp4 -map "[lb]" $X lbox.mp4 -map "[pb]" $X pbox.mp4 \
    -map "[gr]" $X gray.mp4 -map "[wm]" $X warm.mp4 -map "[cl]" $X cool.mp4 -map "[two]" $X two.mp4

gen -f lavfi -i "sine=f=440:d=1" -c:a libvorbis audioonly.ogg

$LENS video -o oc --analyzers color_analysis,camera_analysis split.mp4 lbox.mp4 pbox.mp4 src.mp4 gray.mp4 warm.mp4 cool.mp4 \
    two.mp4 audioonly.ogg 2>log.txt
check "colour: analyzes them all (exit 0)" test $? -eq 0
check "colour: video.json follows the schema" $PY "$ROOT/tests/video_check.py" schema "$SCHEMA" oc/*/video.json
check "audio only: no shots, empty results" py oc/audioonly/video.json "C == {'shots': []} == j['camera_analysis']"
check "70/30 split: two dominant colours, shares within 3%" py oc/split/video.json "
d = C['video']['dominant_colors']; len(d) == 2 and near(d[0]['share'], 0.7, 0.03) and near(d[1]['share'], 0.3, 0.03)"
check "70/30 split: their hex within 12 of #2050c0 and #e0a020 per channel" py oc/split/video.json "
d = C['video']['dominant_colors']; h = lambda s: [int(s[i:i + 2], 16) for i in (1, 3, 5)]
all(near(a, b, 12) for a, b in zip(h(d[0]['hex']) + h(d[1]['hex']), h('#2050c0') + h('#e0a020')))"
check "letterbox: 30 px bars top and bottom, none at the sides" py oc/lbox/video.json "
b = C['video']['black_bars']; near(b['top'], 30, 2) and near(b['bottom'], 30, 2) and b['left'] == b['right'] == 0 and b['letterbox'] and not b['pillarbox']"
check "pillarbox: 40 px bars left and right, none above or below" py oc/pbox/video.json "
b = C['video']['black_bars']; near(b['left'], 40, 3) and near(b['right'], 40, 3) and b['top'] == b['bottom'] == 0 and b['pillarbox'] and not b['letterbox']"
check "no bars on the unpadded source" py oc/src/video.json "
b = C['video']['black_bars']; b['top'] == b['bottom'] == b['left'] == b['right'] == 0"
check "desaturated: saturation and colourfulness near 0, far below the source's" py oc/gray/video.json "
import json as J; s = J.load(open('oc/src/video.json'))['color_analysis']['video']; g = C['video']
g['saturation'] < 0.05 < 0.5 < s['saturation'] and g['colorfulness'] < 5 < 100 < s['colorfulness']"
check "desaturated: brightness kept" py oc/gray/video.json "
import json as J; s = J.load(open('oc/src/video.json'))['color_analysis']['video']; near(C['video']['brightness'], s['brightness'], 0.03)"
check "warm tint: warm, cool tint: cool, grey: neutral" bash -c "
    $(declare -f py); PY=$PY
    py oc/warm/video.json \"C['video']['tone'] == 'warm' and C['video']['warmth'] > 0.03\" &&
    py oc/cool/video.json \"C['video']['tone'] == 'cool' and C['video']['warmth'] < -0.03\" &&
    py oc/gray/video.json \"C['video']['tone'] == 'neutral'\""
check "two shots: per-shot palettes, the second the split's 70/30" py oc/two/video.json "
s = C['shots']; d = s[1]['dominant_colors']
(len(s) == 2 == len(j['shots']) and len(s[0]['dominant_colors']) == 5 and len(d) == 2 and
 near(d[0]['share'], 0.7, 0.03) and s[0]['samples'] + s[1]['samples'] == C['video']['samples'])"

# ---- camera ----
# smooth random textures (blurred noise, no aperture problem), grey and coloured, as stills to move over
gen -f lavfi -i "nullsrc=s=1280x720" -filter_complex \
    "[0]split[a][b];[a]geq=lum='random(1)*255':cb=128:cr=128,gblur=sigma=6[t];[b]geq=lum='random(1)*255':cb='random(2)*255':cr='random(3)*255',gblur=sigma=6,eq=saturation=3[t2]" \
    -map "[t]" -frames:v 1 tex.png -map "[t2]" -frames:v 1 tex2.png
# 320x180 windows, 3 s at 25 fps: right at 60 px/s (pan right), left at 90,
# up at 40 (tilt up), down at 50, still, jittered by up to 6 px; two shots:
# the right pan, then a left one over the coloured texture (a cut; the pair
# across it belongs to neither); a flat grey picture (no measurable motion)
I="-framerate 25 -loop 1 -t 3 -i"
gen $I tex.png $I tex2.png -f lavfi -i "color=c=0x808080:s=320x180:r=25:d=2" -filter_complex \
    "[0]split=7[a][b][c][d][e][f][g];[a]crop=320:180:x='200+60*t':y=200[pr];[b]crop=320:180:x='700-90*t':y=200[pl];
     [c]crop=320:180:x=400:y='400-40*t'[tu];[d]crop=320:180:x=400:y='100+50*t'[td];[e]crop=320:180:x=400:y=200[st];
     [f]crop=320:180:x='400+6*(random(0)*2-1)':y='200+6*(random(1)*2-1)'[sh];
     [g]crop=320:180:x='200+60*t':y=200[pr2];[1]crop=320:180:x='700-90*t':y=200[pl2];[pr2][pl2]concat=n=2:v=1:a=0[two]" \
    -map "[pr]" $X panr.mp4 -map "[pl]" $X panl.mp4 -map "[tu]" $X tiltu.mp4 -map "[td]" $X tiltd.mp4 \
    -map "[st]" $X static.mp4 -map "[sh]" $X shaky.mp4 -map "[two]" $X pans.mp4 -map 2 $X flat.mp4
# zoompan: the zoom multiplied by 1.006 a frame, 25 fps: ln(1.006)*25 = 0.1496 a second; out: reversed
gen -i tex.png -filter_complex "zoompan=z='zoom*1.006':d=75:s=320x180:fps=25:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)',format=yuv420p,split[i][o];[o]reverse[r]" \
    -map "[i]" -frames:v 75 $X zoomin.mp4 -map "[r]" -frames:v 75 $X zoomout.mp4

# a shot longer than the pipeline's lag (12 s, 300 frames): every pair counts
gen -framerate 25 -loop 1 -t 12 -i tex.png -vf "crop=320:180:x='100+30*t':y=200" $X long.mp4
$LENS video -o om --analyzers camera_analysis panr.mp4 panl.mp4 tiltu.mp4 tiltd.mp4 static.mp4 shaky.mp4 \
    zoomin.mp4 zoomout.mp4 pans.mp4 flat.mp4 long.mp4 2>log.txt
check "camera: analyzes them all (exit 0)" test $? -eq 0
check "camera: video.json follows the schema" $PY "$ROOT/tests/video_check.py" schema "$SCHEMA" om/*/video.json
check "pan right at 60 px/s (within 10%)" py om/panr/video.json "
s = M[0]; s['motion'] == 'pan_right' and s['labels'] == ['pan_right'] and near(s['pan_px_s'], 60, 6) and abs(s['tilt_px_s']) < 3"
check "pan left at 90 px/s" py om/panl/video.json "
s = M[0]; s['motion'] == 'pan_left' and s['labels'] == ['pan_left'] and near(s['pan_px_s'], -90, 9) and abs(s['tilt_px_s']) < 3"
check "tilt up at 40 px/s" py om/tiltu/video.json "
s = M[0]; s['motion'] == 'tilt_up' and s['labels'] == ['tilt_up'] and near(s['tilt_px_s'], 40, 4) and abs(s['pan_px_s']) < 3"
check "tilt down at 50 px/s" py om/tiltd/video.json "
s = M[0]; s['motion'] == 'tilt_down' and s['labels'] == ['tilt_down'] and near(s['tilt_px_s'], -50, 5) and abs(s['pan_px_s']) < 3"
check "zoom in at 0.1496/s" py om/zoomin/video.json "
s = M[0]; s['motion'] == 'zoom_in' and s['labels'] == ['zoom_in'] and near(s['zoom_rate_s'], 0.1496, 0.015)"
check "zoom out at -0.1496/s" py om/zoomout/video.json "
s = M[0]; s['motion'] == 'zoom_out' and s['labels'] == ['zoom_out'] and near(s['zoom_rate_s'], -0.1496, 0.015)"
check "static" py om/static/video.json "
s = M[0]; s['motion'] == 'static' and s['labels'] == ['static'] and abs(s['pan_px_s']) < 1 and abs(s['tilt_px_s']) < 1 and abs(s['zoom_rate_s']) < 0.005"
check "jittered window: shaky, no pan or tilt" py om/shaky/video.json "
s = M[0]; s['motion'] == 'shaky' and s['labels'] == ['shaky'] and s['shake_px'] > 4"
check "smooth motion is not shaky" bash -c "! grep -l shaky om/pan*/video.json om/tilt*/video.json om/zoom*/video.json om/static/video.json"
check "two shots: right then left, each at its speed" py om/pans/video.json "
(len(j['shots']) == 2 and [s['motion'] for s in M] == ['pan_right', 'pan_left'] and
 near(M[0]['pan_px_s'], 60, 6) and near(M[1]['pan_px_s'], -90, 9) and
 M[1]['pairs'] == j['shots'][1]['end_frame'] - j['shots'][1]['start_frame'] - 1)"

check "a 300-frame shot: every pair of frames measured, pan right at 30 px/s" py om/long/video.json "
len(j['shots']) == 1 and j['frames'] == 300 and M[0]['pairs'] == 299 and M[0]['motion'] == 'pan_right' and near(M[0]['pan_px_s'], 30, 3)"
check "flat: motion unknown, no labels" py om/flat/video.json "M[0]['motion'] == 'unknown' and M[0]['labels'] == []"

finish video_color
