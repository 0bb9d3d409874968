#!/usr/bin/env bash
# End-to-end tests of `lens video` on videos made here by FFmpeg's filters,
# where the truth is known by construction, and on the shipped clips against
# the cuts judged by eye (tests/fixtures/video/cuts.json):
#   - hard cuts of concatenated sources: F1 = 1.0 at +-1 frame, also rotated
#     (display matrix), at an odd size and with variable frame rate;
#   - fades to and from black or white, xfade dissolves: one boundary inside
#     the transition; flashes and fast motion: no boundary;
#   - audio-only files, videos with audio, container facts; h264, hevc, vp9,
#     av1, mpeg4 and mjpeg in mp4, webm, mkv, avi and mov;
#   - corrupt, truncated and unsupported files: one line naming the file and
#     the reason, the batch goes on, index.json lists the failure;
#   - resuming: finished videos verified and skipped (a missing thumbnail or
#     a changed input or option redoes one), kill -9 loses only the video in
#     progress;
#   - every video.json follows web/video.schema.json and its shots tile it.
# usage: tests/test_video.sh LENS FIXTURES_DIR
set -uo pipefail
LENS=$1 FIX=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
video_setup
X="-c:v libx264 -preset ultrafast -pix_fmt yuv420p"
S=160x90
cd "$work"

# ---- videos with known truth ----
# six sources of 1.2 to 2.2 s at 25 fps, random ones seeded: cuts at 40, 95, 125, 180, 235
gen -f lavfi -i testsrc2=s=$S:r=25:d=1.6 -f lavfi -i smptehdbars=s=$S:r=25:d=2.2 -f lavfi -i mandelbrot=s=$S:r=25 \
    -f lavfi -i cellauto=s=$S:r=25:rule=110:seed=3 -f lavfi -i life=s=$S:r=25:mold=10:ratio=0.5:death_color=#204060:seed=7 \
    -f lavfi -i testsrc=s=$S:r=25:d=1.6 -filter_complex \
    "[2]trim=duration=1.2,setpts=PTS-STARTPTS[m];[3]trim=duration=2.2,setpts=PTS-STARTPTS[g];[4]trim=duration=2.2,setpts=PTS-STARTPTS[l];[0][1][m][g][l][5]concat=n=6:v=1:a=0,format=yuv420p" \
    $X hard.mp4
CUTS=40,95,125,180,235
# the same, shown rotated by 90 degrees (display matrix only)
gen -i hard.mp4 -c copy -metadata:s:v:0 rotate=90 rotated.mp4
# odd size (4:4:4, which allows it)
gen -i hard.mp4 -vf scale=161:91 -c:v libx264 -preset ultrafast -pix_fmt yuv444p odd.mkv
# variable frame rate: frames 10-29 dropped, timestamps kept (the cuts move
# 20 frames earlier, their times stay)
gen -i hard.mp4 -vf "select='not(between(n,10,29))'" -fps_mode vfr $X vfr.mp4
# fade out to black over 2-3 s, fade in over 3-4 s: the boundary in [50, 100]
gen -f lavfi -i testsrc2=s=$S:r=25:d=3 -f lavfi -i mandelbrot=s=$S:r=25 -filter_complex \
    "[0]fade=t=out:st=2:d=1[a];[1]trim=duration=3,setpts=PTS-STARTPTS,fade=t=in:st=0:d=1[b];[a][b]concat=n=2:v=1:a=0" $X fade.mp4
# a fade through white, then a fade in from black at the start (no boundary)
gen -f lavfi -i smptehdbars=s=$S:r=25:d=3 -f lavfi -i testsrc2=s=$S:r=25:d=3 -filter_complex \
    "[0]fade=t=in:st=0:d=0.6,fade=t=out:st=2.4:d=0.6:color=white[a];[1]fade=t=in:st=0:d=0.6:color=white[b];[a][b]concat=n=2:v=1:a=0" $X white.mp4
# dissolves: xfade's cross-fade over 2-3 s, its pixel dissolve over 2-2.6 s
gen -f lavfi -i testsrc2=s=$S:r=25:d=3 -f lavfi -i mandelbrot=s=$S:r=25 -filter_complex \
    "[1]trim=duration=3,setpts=PTS-STARTPTS[b];[0][b]xfade=transition=fade:duration=1:offset=2,format=yuv420p" $X xfade.mp4
gen -f lavfi -i smptehdbars=s=$S:r=25:d=3 -f lavfi -i testsrc2=s=$S:r=25:d=3 -filter_complex \
    "[0][1]xfade=transition=dissolve:duration=0.6:offset=2,format=yuv420p" $X xfade2.mp4
# xfade through black over 2-3 s
gen -f lavfi -i testsrc2=s=$S:r=25:d=3 -f lavfi -i smptehdbars=s=$S:r=25:d=3 -filter_complex \
    "[0][1]xfade=transition=fadeblack:duration=1:offset=2,format=yuv420p" $X fadeblack.mp4
# flashes: two white frames, one brightened frame, one black frame; and
# fast motion: a crop window swinging over a larger picture
gen -f lavfi -i testsrc2=s=$S:r=25:d=4 -vf \
    "lutyuv=y=235:u=128:v=128:enable='between(n,30,31)',eq=brightness=0.6:enable='eq(n,60)',lutyuv=y=16:u=128:v=128:enable='eq(n,80)'" $X flash.mp4
gen -f lavfi -i testsrc2=s=480x270:r=25:d=4 -vf "crop=160:90:x='160+150*sin(n/4)':y='90+80*cos(n/5)'" $X motion.mp4
# audio: a video with a -18 dBFS sine, and audio alone
gen -i hard.mp4 -f lavfi -i "sine=f=440:d=11:r=44100" -map 0:v -map 1:a -c:v copy -c:a aac withaudio.mp4
gen -f lavfi -i "sine=f=440:d=3" -c:a libvorbis audioonly.ogg
mkdir -p batch && cp hard.mp4 batch/a_hard.mp4 && cp fade.mp4 batch/b_fade.mp4

$LENS video -o out hard.mp4 rotated.mp4 odd.mkv vfr.mp4 fade.mp4 white.mp4 xfade.mp4 xfade2.mp4 fadeblack.mp4 \
    flash.mp4 motion.mp4 withaudio.mp4 audioonly.ogg 2>log.txt
check "analyzes them all (exit 0)" test $? -eq 0
check "one summary line per video and one for the batch" test "$(wc -l <log.txt)" -eq 14
check "video.json of each follows the schema, shots tile it" vc schema "$SCHEMA" out/*/video.json
check "hard cuts: F1 = 1.0 at +-1 frame" vc cuts out/hard/video.json $CUTS
check "rotated: the same cuts" vc cuts out/rotated/video.json $CUTS
check "rotated: shown 90x160" test "$(vc get out/rotated/video.json width)x$(vc get out/rotated/video.json height)" = 90x160
# the thumbnail of the bars (a still shot) turned as FFmpeg's own autorotate turns it
gen -i rotated.mp4 -vf "select=eq(n\,60)" -frames:v 1 turned.png
psnr=$(ffmpeg -nostdin -i turned.png -i out/rotated/shot_0001.jpg -lavfi "[0]format=rgb24[a];[1]scale=90:160,format=rgb24[b];[a][b]psnr" \
       -f null - 2>&1 | grep -o 'average:[0-9.]*' | cut -d: -f2)
check "rotated: frames turned as FFmpeg shows them (PSNR $psnr dB)" $PY -c "import sys; sys.exit(not float(sys.argv[1]) > 25)" "${psnr:-0}"
check "odd size: the same cuts" vc cuts out/odd/video.json $CUTS
check "odd size: 161x91" test "$(vc get out/odd/video.json width)x$(vc get out/odd/video.json height)" = 161x91
check "variable frame rate: the cuts, 20 frames earlier" vc cuts out/vfr/video.json 20,75,105,160,215
check "variable frame rate: times from timestamps" test "$(vc get out/vfr/video.json shots.1.start_s)/$(vc get out/vfr/video.json shots.5.start_s)" = 1.6/9.4
check "variable frame rate: noticed" test "$(vc get out/vfr/video.json content_quality.decoded.variable_frame_rate)" = true
check "fade out and in: one boundary inside [50, 100], a fade" test "$(vc within out/fade/video.json 50 100)" = fade
check "fade through white: inside [60, 90]" vc within out/white/video.json 60 90 >/dev/null
check "xfade dissolve over 2-3 s: inside [50, 75]" vc within out/xfade/video.json 50 75 >/dev/null
check "...typed a dissolve" test "$(vc within out/xfade/video.json 50 75)" = dissolve
check "xfade dissolve over 2-2.6 s: inside [50, 65]" vc within out/xfade2/video.json 50 65 >/dev/null
check "xfade through black: inside [50, 75]" vc within out/fadeblack/video.json 50 75 >/dev/null
check "flashes: no boundary" vc shots out/flash/video.json 1
check "fast motion: no boundary" vc shots out/motion/video.json 1
check "a thumbnail per shot, JPEG" test "$(ls out/hard/*.jpg | wc -l)" -eq 6 -a "$(head -c 2 out/hard/shot_0000.jpg | od -An -tx1 | tr -d ' ')" = ffd8
check "with audio: has_audio" test "$(vc get out/withaudio/video.json has_audio)" = true
vd=$(ffmpeg -nostdin -i withaudio.mp4 -af volumedetect -f null - 2>&1)
check "with audio: peak and RMS as FFmpeg's volumedetect (+-0.3 dB)" $PY -c "
import sys, re
mean, peak = (float(re.search(k + r'_volume: (\S+) dB', sys.argv[1]).group(1)) for k in ('mean', 'max'))
assert abs(float(sys.argv[2]) - peak) <= 0.3 and abs(float(sys.argv[3]) - mean) <= 0.3, (sys.argv[2:], peak, mean)" "$vd" \
    "$(vc get out/withaudio/video.json content_quality.decoded.audio_peak_dbfs)" "$(vc get out/withaudio/video.json content_quality.decoded.audio_rms_dbfs)"
check "audio only: no frames, no shots, 3 s" test "$(vc get out/audioonly/video.json frames)/$(vc get out/audioonly/video.json shots)/$(vc get out/audioonly/video.json duration_s)" = "0/[]/3.0"
check "container facts: h264, 25 fps, 160x90" test "$(vc get out/hard/video.json content_quality.container.video.codec)/$(vc get out/hard/video.json fps)/$(vc get out/hard/video.json content_quality.container.video.width)" = "h264/25.0/160"
check "index.json lists them all as done" $PY -c "
import json; j = json.load(open('out/index.json')); assert len(j['videos']) == 13 and j['counts'] == {'done': 13, 'skipped': 0, 'failed': 0}, j"

# sharpness moves the right way: the same video blurred is less sharp,
# over the video and in each shot that has detail
gen -i hard.mp4 -vf gblur=sigma=1.5 $X blurred.mp4
$LENS video -o sharp --sample-fps 4 hard.mp4 blurred.mp4 2>/dev/null
check "sharpness: blurred < sharp, per video and per shot" $PY -c "
import json
a, b = (json.load(open('sharp/%s/video.json' % n))['content_quality']['sharpness'] for n in ('hard', 'blurred'))
assert a['samples'] == b['samples'] == 44, (a['samples'], b['samples'])
assert b['video'] < 0.5 * a['video'], (a['video'], b['video'])
a, b = (json.load(open('sharp/%s/video.json' % n))['content_quality']['shots'] for n in ('hard', 'blurred'))
assert len(a) == 6 and all(s['samples'] >= 4 for s in a), a
lower = sum(y['sharpness'] < 0.5 * x['sharpness'] for x, y in zip(a, b))
assert lower >= 5, (a, b)"
# frozen frames: frames 31-59 repeat frame 30 of an always moving picture;
# black frames: those of the fade
gen -f lavfi -i testsrc2=s=$S:r=25:d=4 -filter_complex "[0]split[a][b];[a][b]freezeframes=first=30:last=59:replace=30" $X frozen.mp4
$LENS video -o fz frozen.mp4 2>/dev/null
check "frozen frames: 29, in one run, in the first shot" \
    test "$(vc get fz/frozen/video.json content_quality.frames.frozen_frames)/$(vc get fz/frozen/video.json content_quality.frames.longest_frozen_frames)/$(vc get fz/frozen/video.json content_quality.shots.0.frozen_frames)" = 29/29/29
check "black frames: in the fade, none in the cuts" $PY -c "
import json
f, h = (json.load(open('out/%s/video.json' % n))['content_quality'] for n in ('fade', 'hard'))
assert 2 <= f['frames']['black_frames'] <= 12 and sum(s['black_frames'] for s in f['shots']) == f['frames']['black_frames'], f
assert h['frames']['black_frames'] == 0, h['frames']"

# other codecs, containers and pixel formats: the same cuts in the first 4 s
# (10-bit h264 and RGB ffv1 are scaled by libswscale, 8-bit YUV from the base)
gen -i hard.mp4 -t 4 -c:v libx264 -preset ultrafast -pix_fmt yuv420p10le codecs_h264.mp4
gen -i hard.mp4 -t 4 -c:v ffv1 -pix_fmt bgr0 codecs_ffv1.mkv
gen -i hard.mp4 -t 4 -c:v libx265 -x265-params log-level=error codecs_hevc.mp4
gen -i hard.mp4 -t 4 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 codecs_vp9.webm
gen -i hard.mp4 -t 4 -c:v libaom-av1 -cpu-used 8 -row-mt 1 codecs_av1.mkv
gen -i hard.mp4 -t 4 -c:v mpeg4 codecs_mpeg4.avi
gen -i hard.mp4 -t 4 -c:v mjpeg codecs_mjpeg.mov
$LENS video -o codecs codecs_* 2>/dev/null
for c in h264 ffv1 hevc vp9 av1 mpeg4 mjpeg; do
    check "$c: the cuts" vc cuts codecs/codecs_$c/video.json 40,95
    check "$c: named" test "$(vc get codecs/codecs_$c/video.json content_quality.container.video.codec)" = $c
done

# ---- the shipped clips against the cuts judged by eye ----
$LENS video -o real "$FIX/video" 2>real.txt
check "shipped clips analyzed" test $? -eq 0
check "shipped clips: every boundary of the fixture found, nothing else" vc fixture "$FIX/video/cuts.json" real
check "shipped clips: schema" vc schema "$SCHEMA" real/*/video.json
# a thumbnail per shot, none of them blank (the trailer's shots start and end in black)
nblank=0
for t in real/sintel_trailer_52s_480x204/shot_*.jpg; do
    range=$(ffprobe -v error -f lavfi -i "movie=$t,signalstats" -show_entries frame_tags=lavfi.signalstats.YMIN,lavfi.signalstats.YMAX -of csv=p=0 | awk -F, '{print $2 - $1}')
    [[ ${range:-0} -gt 40 ]] || nblank=$((nblank + 1))
done
check "trailer: a thumbnail per shot, none blank ($nblank blank)" \
    test "$(ls real/sintel_trailer_52s_480x204/shot_*.jpg | wc -l)" -eq "$(vc get real/sintel_trailer_52s_480x204/video.json shots | $PY -c "import json, sys; print(len(json.load(sys.stdin)))")" -a $nblank -eq 0

# ---- bad files: one line each, the batch goes on ----
head -c 20000 /dev/urandom >batch/c_corrupt.mp4
gen -f lavfi -i testsrc2=s=$S:r=25:d=8 $X -movflags +faststart long.mp4
head -c $(($(stat -c %s long.mp4) / 2)) long.mp4 >batch/d_truncated.mp4
echo "not a video" >batch/e_text.mkv
$LENS video -o bo batch 2>bad.txt
check "bad files: exit 1" test $? -eq 1
check "corrupt: one line naming it" test "$(grep -c 'c_corrupt.mp4' bad.txt)" -eq 1
check "truncated: one line naming it and why" grep -q 'd_truncated.mp4: truncated' bad.txt
check "not a video: one line naming it" test "$(grep -c 'e_text.mkv' bad.txt)" -eq 1
check "the batch went on" test -s bo/a_hard/video.json -a -s bo/b_fade/video.json
check "index.json lists the failures with reasons" $PY -c "
import json; j = json.load(open('bo/index.json'))
st = {v['name']: (v['status'], v.get('reason', '')) for v in j['videos']}
assert st['a_hard'][0] == st['b_fade'][0] == 'done', st
assert all(st[n][0] == 'failed' and n in st[n][1] for n in ('c_corrupt', 'd_truncated', 'e_text')), st
assert j['counts'] == {'done': 2, 'skipped': 0, 'failed': 3}, j['counts']"
check "no staging directories left" test -z "$(ls -A bo | grep partial)"
mkdir -p d1 d2 && cp fade.mp4 d1/same.mp4 && cp flash.mp4 d2/same.mp4
$LENS video -o dup d1 d2 2>/dev/null
check "two videos of one name: same and same-2, in input order" \
    test "$(vc get dup/same/video.json source.path)|$(vc get dup/same-2/video.json source.path)" = "d1/same.mp4|d2/same.mp4"
# on a terminal (script(1) gives a pty): a progress bar with the video of the
# batch, its share, frames, realtime factor and ETA, and the batch's ETA while
# videos remain; the summary lines stay
script -qec "'$LENS' video -o tty hard.mp4 fade.mp4" /dev/null > tty.log 2>&1
check "progress bar on a tty: video i/n, %, frames, realtime, ETA, batch ETA" \
    grep -Eq 'video 1/2 hard.mp4 +[0-9]+% [0-9]+ frames, [0-9.]+x realtime, ETA [0-9]+s, batch ETA [0-9]+s' tty.log
tr '\r' '\n' < tty.log > tty.lines
check "...and the last video's without a batch ETA" grep -Eq 'video 2/2 fade.mp4 +[0-9]+% [0-9]+ frames, [0-9.]+x realtime, ETA [0-9]+s$' tty.lines
check "...and a summary line per video" test "$(grep -c 'frames, [0-9]* shots in' tty.log)" -eq 2
expect_error "unknown analyzer: one line" "unknown analyzer 'nope'" $LENS video -o x --analyzers nope hard.mp4
mkdir empty
expect_error "no video in the inputs: one line" "no video files" $LENS video -o x empty
$LENS video -o x 2>/dev/null
check "no input: usage, exit 2" test $? -eq 2

# ---- resuming ----
sum() { sha256sum bo/a_hard/video.json bo/b_fade/video.json; }
before=$(sum)
$LENS video -o bo batch 2>again.txt
check "second run: finished videos skipped" test "$(grep -c 'skipped, already done' again.txt)" -eq 2
check "...their outputs untouched" test "$before" = "$(sum)"
check "...index.json says skipped" $PY -c "
import json; assert json.load(open('bo/index.json'))['counts'] == {'done': 0, 'skipped': 2, 'failed': 3}"
rm bo/a_hard/shot_0002.jpg
touch batch/b_fade.mp4
$LENS video -o bo batch 2>again2.txt
check "a missing thumbnail or a changed input: done again" test "$(grep -c ': 11.00 s\|: 6.00 s' again2.txt)" -eq 2 -a -s bo/a_hard/shot_0002.jpg
$LENS video -o bo --sample-fps 3 batch/a_hard.mp4 2>again3.txt
check "other options: done again" grep -q '275 frames, 6 shots in' again3.txt
# kill -9 while the second of two videos is in progress: the first stays whole
mkdir -p kb && cp hard.mp4 kb/a.mp4 && cp "$FIX/video/sintel_clip_26s_848x480.mp4" kb/b.mp4
$LENS video -o ko --threads 1 kb 2>/dev/null &
kpid=$!
for _ in $(seq 1 300); do [[ -d ko/.b.partial ]] && break; sleep 0.05; done
kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null
check "kill -9: the finished video is whole" vc schema "$SCHEMA" ko/a/video.json
check "kill -9: the one in progress is not in place" test ! -e ko/b
$LENS video -o ko kb 2>resume.txt
check "after kill -9: the finished one skipped, the other done" \
    bash -c "grep -q 'a.mp4: skipped' resume.txt && grep -q 'b.mp4: 26.1' resume.txt && test -s ko/b/video.json && test ! -e ko/.b.partial"
# Ctrl-C during the second video: it stops there, says how to resume, and
# leaves the first in place and nothing of the second
$LENS video -o io --threads 1 kb 2>int.txt &
ipid=$!
for _ in $(seq 1 300); do [[ -d io/.b.partial ]] && break; sleep 0.05; done
kill -INT $ipid; wait $ipid; rc=$?
check "Ctrl-C: exit 1" test $rc -eq 1
check "Ctrl-C: one line saying how to resume" test "$(grep -c 'run the same command again to resume' int.txt)" -eq 1
check "Ctrl-C: the first video in place, nothing of the second" test -s io/a/video.json -a ! -e io/b -a ! -e io/.b.partial
check "Ctrl-C: index.json has the second pending" $PY -c "
import json; v = json.load(open('io/index.json'))['videos']; assert [x['status'] for x in v] == ['done', 'pending'], v"

finish video
