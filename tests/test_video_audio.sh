#!/usr/bin/env bash
# audio_analysis on audio made by FFmpeg's filters, against FFmpeg itself:
#   - integrated loudness within 0.1 LU of FFmpeg's ebur128 filter on the
#     same file (mono, stereo with unequal channels, 5.1, a quiet and a loud
#     one, an AAC video track, the shipped Sintel trailer's soundtrack),
#     loudness range within 0.2 LU, true peak within 0.3 dB;
#   - click tracks at 90, 120 and 140 BPM: tempo within 2%; a steady tone
#     and pink noise: bpm null with a reason;
#   - silence gaps at known times found (+-0.1 s), none in a tone;
#   - the loudness curve bounded (at most 400 points) and following a level
#     step; a video without audio and an audio-only file handled;
#   - every video.json follows web/video.schema.json.
# usage: tests/test_video_audio.sh LENS
set -uo pipefail
LENS=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
video_setup
cd "$work"
mkdir in

# ---- loudness ----
gen -f lavfi -i "sine=f=440:r=48000:d=6" -af volume=-12dB in/mono.wav
gen -f lavfi -i "sine=f=1000:r=44100:d=6" -af "pan=stereo|c0=0.7*c0|c1=0.3*c0" -c:a flac in/stereo.flac
gen -f lavfi -i "anoisesrc=d=6:c=pink:a=0.5:seed=3:r=48000" -af "pan=5.1|c0=c0|c1=0.8*c0|c2=0.5*c0|c3=0.3*c0|c4=0.4*c0|c5=0.2*c0" -c:a pcm_s16le in/surround.wav
gen -f lavfi -i "sine=f=220:r=32000:d=6" -af volume=-40dB in/quiet.wav
# a level step (-30 dB for 4 s, then -10 dB for 4 s): a loudness range, a curve that rises
gen -f lavfi -i "sine=f=500:r=48000:d=8" -af "volume='if(lt(t,4),0.0316,0.316)':eval=frame" in/step.wav
# a video with an AAC stereo track
gen -f lavfi -i testsrc2=s=160x90:r=25:d=5 -f lavfi -i "sine=f=440:r=44100:d=5" -filter_complex "[1]pan=stereo|c0=c0|c1=0.5*c0[a]" \
    -map 0:v -map "[a]" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac in/video_aac.mp4
# a real soundtrack: the shipped Sintel trailer's (stereo AAC, 44.1 kHz), as it is
gen -i "$ROOT/tests/fixtures/video/sintel_trailer_52s_480x204.mp4" -vn -c:a copy in/sintel.m4a
# ---- tempo: clicks of 20 ms at 2 kHz, 12 s ----
for b in 90 120 140; do
    p=$($PY -c "print(60 / $b)")
    gen -f lavfi -i "aevalsrc='if(lt(mod(t\,$p)\,0.02)\,0.8*sin(2*PI*2000*t)\,0)':s=44100:d=12" -c:a aac in/click$b.m4a
done
gen -f lavfi -i "anoisesrc=d=8:c=pink:a=0.3:seed=5" in/noise.wav
# ---- silence: tone 2 s, silence 1.5 s, tone 2 s, silence 3 s, tone 1 s ----
gen -f lavfi -i "sine=f=300:d=2" -f lavfi -i "anullsrc=r=44100:cl=mono:d=1.5" -f lavfi -i "sine=f=600:d=2" \
    -f lavfi -i "anullsrc=r=44100:cl=mono:d=3" -f lavfi -i "sine=f=400:d=1" \
    -filter_complex "[0][1][2][3][4]concat=n=5:v=0:a=1" in/gaps.wav
# ---- no audio ----
gen -f lavfi -i testsrc2=s=160x90:r=25:d=2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p in/silent_video.mp4

$LENS video --analyzers audio_analysis -o out in/* 2>log.txt
check "all analyzed" test $? -eq 0 || cat log.txt
check "schema" vc schema "$SCHEMA" out/*/video.json
get() { vc get "out/$1/video.json" "audio_analysis.$2"; }

# FFmpeg's ebur128 summary: I, LRA and the true peak
ref() {
    ffmpeg -nostdin -i "$1" -map 0:a -af ebur128=peak=true -f null - 2>&1 | $PY -c "
import re, sys
s = sys.stdin.read().split('Summary:')[1]
i = re.search(r'I:\s+(-?[\d.]+) LUFS', s).group(1)
lra = re.search(r'LRA:\s+(-?[\d.]+) LU', s).group(1)
tp = re.search(r'True peak:\s+Peak:\s+(-?[\d.inf]+) dBFS', s).group(1)
print(i, lra, tp)"
}
for f in mono.wav stereo.flac surround.wav quiet.wav step.wav video_aac.mp4 sintel.m4a; do
    n=${f%.*}
    read -r ri rlra rtp <<<"$(ref in/$f)"
    check "$n: integrated loudness within 0.1 LU, LRA within 0.2 LU, true peak within 0.3 dB of ffmpeg's ($ri, $rlra, $rtp)" \
        $PY -c "
import json; a = json.load(open('out/$n/video.json'))['audio_analysis']
got = (a['integrated_lufs'], a['loudness_range_lu'], a['true_peak_dbtp'])
assert abs(got[0] - $ri) <= 0.1 and abs(got[1] - $rlra) <= 0.2 and abs(got[2] - $rtp) <= 0.3, got"
done
check "stereo: native rate and channels" test "$(get stereo sample_rate)/$(get stereo channels)" = 44100/2
check "surround: 6 channels" test "$(get surround channels)" = 6
check "step: a loudness range of about 20 LU" $PY -c "assert 18 <= $(get step loudness_range_lu) <= 21"
check "step: the curve rises by about 20 LU, at most 400 points" $PY -c "
import json; c = json.load(open('out/step/video.json'))['audio_analysis']['loudness_curve']
v = c['lufs']; assert c['step_s'] == 0.5 and len(v) == 16, c
assert abs(v[5] - (v[-1] - 20)) < 0.5, v"

for b in 90 120 140; do
    check "click $b BPM: tempo $(get click$b tempo.bpm) within 2%" $PY -c "assert abs($(get click$b tempo.bpm) - $b) <= 0.02 * $b"
done
check "steady tone: no tempo, a reason" test "$(get mono tempo.bpm)|$(get mono tempo.reason)" = "null|no onsets (silence or a steady sound)"
check "pink noise: no tempo" test "$(get noise tempo.bpm)|$(get noise tempo.reason)" = "null|no clear periodicity"

check "gaps: silences at 2-3.5 s and 5.5-8.5 s" $PY -c "
import json; s = json.load(open('out/gaps/video.json'))['audio_analysis']['silence']['segments']
want = [(2, 3.5), (5.5, 8.5)]
assert len(s) == 2 and all(abs(a['start_s'] - w[0]) <= 0.1 and abs(a['end_s'] - w[1]) <= 0.1 for a, w in zip(s, want)), s"
check "tone: no silence" test "$(get mono silence.segments)" = "[]"
check "no audio: has_audio false, a reason" test "$(get silent_video has_audio)|$(get silent_video reason)" = "false|no audio stream"
check "audio only: no frames, analyzed" test "$(vc get out/gaps/video.json frames)|$(get gaps has_audio)" = "0|true"

# a long file: the curve stays bounded (10 min of 8 kHz audio, quick to make)
gen -f lavfi -i "sine=f=200:r=8000:d=600" -c:a pcm_s16le long.wav
$LENS video --analyzers audio_analysis -o out long.wav 2>/dev/null
check "10 min: the curve at most 400 points, the step doubled" $PY -c "
import json; c = json.load(open('out/long/video.json'))['audio_analysis']['loudness_curve']
assert 200 <= len(c['lufs']) <= 400 and c['step_s'] == 2.0, (len(c['lufs']), c['step_s'])
# the points on the grid of the step: the last one at most a step before the end
assert 600 - 2.0 < c['first_s'] + (len(c['lufs']) - 1) * c['step_s'] <= 600, len(c['lufs'])"

finish video_audio
