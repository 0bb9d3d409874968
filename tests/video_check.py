"""Checks for tests/test_video.sh (Debian's python3, no third-party modules).

  video_check.py schema SCHEMA VIDEO_JSON...       every file valid, shots tile the video
  video_check.py cuts VIDEO_JSON CUT[,CUT...]      hard cuts: F1 = 1.0 at +-1 frame, all "cut"
  video_check.py within VIDEO_JSON A B             exactly one boundary, inside [A, B]
  video_check.py shots VIDEO_JSON N                N shots
  video_check.py fixture CUTS_JSON OUT_DIR         detections against the by-eye fixture
  video_check.py get VIDEO_JSON KEY.KEY...         prints a value
The schema check implements the part of JSON Schema (2020-12) that
web/video.schema.json uses: type, const, enum, required, properties, items,
minItems, maxItems, minimum, maximum, exclusiveMinimum, pattern.
"""
import json, os, re, sys

TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def is_type(v, t):
    if t == "integer": return isinstance(v, int) and not isinstance(v, bool)
    if t == "number": return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, TYPES[t])


def validate(v, s, path, errs):
    if "type" in s:
        ts = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(is_type(v, t) for t in ts):
            errs.append("%s: %r is not %s" % (path, v, s["type"])); return
    if "const" in s and v != s["const"]: errs.append("%s: %r != %r" % (path, v, s["const"]))
    if "enum" in s and v not in s["enum"]: errs.append("%s: %r not in %r" % (path, v, s["enum"]))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]: errs.append("%s: %r < %r" % (path, v, s["minimum"]))
        if "maximum" in s and v > s["maximum"]: errs.append("%s: %r > %r" % (path, v, s["maximum"]))
        if "exclusiveMinimum" in s and v <= s["exclusiveMinimum"]: errs.append("%s: %r <= %r" % (path, v, s["exclusiveMinimum"]))
    if isinstance(v, str) and "pattern" in s and not re.search(s["pattern"], v):
        errs.append("%s: %r does not match %s" % (path, v, s["pattern"]))
    if isinstance(v, dict):
        for k in s.get("required", []):
            if k not in v: errs.append("%s: %s missing" % (path, k))
        for k, sub in s.get("properties", {}).items():
            if k in v: validate(v[k], sub, path + "." + k, errs)
    if isinstance(v, list):
        if len(v) < s.get("minItems", 0): errs.append("%s: fewer than %d items" % (path, s["minItems"]))
        if "maxItems" in s and len(v) > s["maxItems"]: errs.append("%s: more than %d items" % (path, s["maxItems"]))
        if "items" in s:
            for i, x in enumerate(v): validate(x, s["items"], "%s[%d]" % (path, i), errs)


def tiles(j):
    errs, at = [], 0
    for i, s in enumerate(j["shots"]):
        if s["index"] != i: errs.append("shot %d has index %d" % (i, s["index"]))
        if s["start_frame"] != at: errs.append("shot %d starts at %d, not %d" % (i, s["start_frame"], at))
        if s["end_frame"] <= s["start_frame"]: errs.append("shot %d is empty" % i)
        if s["end_s"] < s["start_s"]: errs.append("shot %d ends before it starts" % i)
        if (i == 0) != (s["transition"] == "none"): errs.append("shot %d: transition %s" % (i, s["transition"]))
        at = s["end_frame"]
    if at != j["frames"]: errs.append("shots end at %d, the video has %d frames" % (at, j["frames"]))
    # the video may end before its audio
    if j["shots"] and j["shots"][-1]["end_s"] > j["duration_s"] + 0.001: errs.append("last shot ends after duration_s")
    return errs


def bounds(j):
    return [(s["start_frame"], s["transition"]) for s in j["shots"][1:]]


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "schema":
        schema = json.load(open(args[0]))
        bad = 0
        for p in args[1:]:
            j = json.load(open(p))
            errs = []
            validate(j, schema, "$", errs)
            errs += tiles(j)
            for e in errs: print("%s: %s" % (p, e))
            bad += bool(errs)
        sys.exit(1 if bad or not args[1:] else 0)
    if cmd == "cuts":
        j = json.load(open(args[0]))
        truth = [int(x) for x in args[1].split(",")]
        got = bounds(j)
        tp = sum(1 for t in truth if any(abs(f - t) <= 1 for f, _ in got))
        fp = [f for f, _ in got if not any(abs(f - t) <= 1 for t in truth)]
        p = tp / len(got) if got else 0
        r = tp / len(truth)
        f1 = 2 * p * r / (p + r) if p + r else 0
        kinds = {k for _, k in got}
        if f1 != 1.0 or kinds != {"cut"}:
            print("truth %s, got %s: F1 %.3f, false %s" % (truth, got, f1, fp)); sys.exit(1)
        sys.exit(0)
    if cmd == "within":
        j = json.load(open(args[0]))
        a, b = int(args[1]), int(args[2])
        got = bounds(j)
        if len(got) != 1 or not a <= got[0][0] <= b:
            print("want one boundary in [%d, %d], got %s" % (a, b, got)); sys.exit(1)
        print(got[0][1])
        sys.exit(0)
    if cmd == "shots":
        j = json.load(open(args[0]))
        if len(j["shots"]) != int(args[1]):
            print("want %s shots, got %s" % (args[1], bounds(j))); sys.exit(1)
        sys.exit(0)
    if cmd == "get":
        v = json.load(open(args[0]))
        for k in args[1].split("."):
            v = v[int(k)] if isinstance(v, list) else v[k]
        print(json.dumps(v) if not isinstance(v, str) else v)
        sys.exit(0)
    if cmd == "fixture":
        fx = json.load(open(args[0]))["clips"]
        bad = 0
        for clip, want in fx.items():
            name = os.path.splitext(clip)[0]
            j = json.load(open(os.path.join(args[1], name, "video.json")))
            if j["frames"] != want["frames"]:
                print("%s: %d frames, fixture says %d" % (clip, j["frames"], want["frames"])); bad += 1
            got = bounds(j)
            def hits(b, f):
                if b["type"] == "cut": return abs(f - b["frame"]) <= 1
                return b["span"][0] <= f <= b["span"][1]
            for b in want["boundaries"]:
                found = [f for f, _ in got if hits(b, f)]
                where = b.get("frame", b.get("span"))
                if b.get("known_miss"):
                    print("%s: %s at %s: known miss (%s)%s" % (clip, b["type"], where, b["known_miss"],
                                                                 ", found now: update the fixture" if found else ""))
                elif not found and not b.get("optional"):
                    print("%s: missed %s at %s: %s" % (clip, b["type"], where, b["note"])); bad += 1
            for f, k in got:
                if not any(hits(b, f) for b in want["boundaries"]):
                    print("%s: boundary (%s) at frame %d matches nothing in the fixture" % (clip, k, f)); bad += 1
                for nb in want.get("not_boundaries", []):
                    if nb["span"][0] <= f <= nb["span"][1]:
                        print("%s: boundary at %d inside %s: %s" % (clip, f, nb["span"], nb["note"])); bad += 1
            print("%s: %d boundaries found, %d in the fixture" % (clip, len(got), len(want["boundaries"])))
        sys.exit(1 if bad else 0)
    sys.exit("unknown command " + cmd)


main()
