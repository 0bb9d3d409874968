#!/usr/bin/python3
"""Parity of lens's graph runtime with @tensorflow/tfjs (issue 14, section 3).

The references (tests/fixtures/graph/tfjs/<model>/<case>/, made by
tools/tfjs/ref.mjs) hold each case's recipe (case.json) and tfjs's outputs:
whole (<name>.npy) or, for big ones, a deterministic subsample (<name>.sub.npy)
plus the whole tensor's sha256, min, max, mean and std. Python 3 + numpy only.

  graph_parity.py inputs REF_DIR OUT_DIR
      writes every case's float32 input(s) to OUT_DIR/<model>/<case>/<name>.npy
      (seeded ones regenerated, frames rebuilt from their RGB24 image), checked
      against the sha256 of what tfjs was fed (int32 placeholders: tfjs's
      int32 values, written as float32 for `lens graph run`)
  graph_parity.py compare REF_DIR LENS_DIR [--tol 1e-4]
      LENS_DIR/<model>/<case>/<name>.npy (as `lens graph run -o` writes them)
      against the references: max |lens - tfjs| <= tol * (tfjs output's range;
      its magnitude where it is one value) on the stored elements, and min/max/mean of the whole tensor within the
      same bound; one line per model/case/output, exit 1 on any failure
  graph_parity.py run LENS MODELS_DIR REF_DIR WORK_DIR [--tol 1e-4] [--models a,b]
      both, with `LENS graph run MODELS_DIR/<model> --input NAME=FILE -o ...`
      per case in between: the whole CI test
"""
import gzip
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

SEED_MUL = 0x9E3779B9


def lowbias32(x):
    """Chris Wellons' lowbias32 on a uint32 array (tools/tfjs/lib.mjs's)."""
    x = x.astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def seeded(shape, dtype, seed, lo, hi):
    n = int(np.prod(shape))
    base = (seed * SEED_MUL) & 0xFFFFFFFF
    with np.errstate(over='ignore'):
        h = lowbias32((np.arange(n, dtype=np.uint64) + base) & 0xFFFFFFFF)
    if dtype == 'int32':
        v = lo + (h >> np.uint32(24)).astype(np.int64) % (hi - lo + 1)
        return v.astype(np.int32).reshape(shape)
    u = (h >> np.uint32(8)).astype(np.float64) / 16777216.0
    return (lo + (hi - lo) * u).astype(np.float32).reshape(shape)


def place(rgb, region, oh, ow):
    """tools/tfjs/lib.mjs's place(): the region [x, y, w, h] of the frame
    scaled to oh x ow by nearest neighbour on integers, black outside."""
    rx, ry, rw, rh = region
    fh, fw = rgb.shape[:2]
    sy = ry + (2 * np.arange(oh) + 1) * rh // (2 * oh)
    sx = rx + (2 * np.arange(ow) + 1) * rw // (2 * ow)
    out = np.zeros((oh, ow, 3), np.uint8)
    iy, ix = (sy >= 0) & (sy < fh), (sx >= 0) & (sx < fw)
    out[np.ix_(iy, ix)] = rgb[np.ix_(sy[iy], sx[ix])]
    return out


def from_frame(ref, src, shape, dtype):
    with gzip.open(os.path.join(ref, 'frames', src['frame'] + '.rgb.npy.gz')) as f:
        frame = np.load(f)
    rgb = place(frame, src['region'], src['height'], src['width'])
    x = rgb.astype(np.float32)[None]  # 1 x H x W x 3, float32 as tfjs's toFloat
    norm = src['norm']
    if norm in ('x', 'int'):
        y = x
    elif norm == 'x/255':
        y = x / np.float32(255)
    elif norm == 'x/127.5-1':
        y = x / np.float32(127.5) - np.float32(1)
    elif norm == 'gray':
        w = np.array([0.2989, 0.5870, 0.1140], np.float32)
        p = (x / np.float32(255)) * w
        # tfjs's cpu sum adds in double, in channel order, then rounds to float32
        g = ((p[..., 0:1].astype(np.float64) + p[..., 1:2]) + p[..., 2:3]).astype(np.float32)
        y = (g - np.float32(0.5)) * np.float32(2)
    else:
        raise SystemExit(f'graph_parity: unknown norm {norm!r}')
    if src.get('nchw'):
        y = y.transpose(0, 3, 1, 2)
    y = np.ascontiguousarray(y.reshape(shape))
    return y.astype(np.int32) if dtype == 'int32' else y


def cases(ref, models=None):
    for m in sorted(os.listdir(ref)):
        if models and m not in models:
            continue
        md = os.path.join(ref, m)
        if not os.path.isdir(md):
            continue
        for c in sorted(os.listdir(md)):
            cj = os.path.join(md, c, 'case.json')
            if os.path.exists(cj):
                with open(cj) as f:
                    yield m, c, os.path.join(md, c), json.load(f)


def make_inputs(ref, out, models=None):
    """Writes the float32 inputs; returns {(model, case): [(name, file)]}."""
    made, bad = {}, 0
    for m, c, d, meta in cases(ref, models):
        od = os.path.join(out, m, c)
        os.makedirs(od, exist_ok=True)
        lst = []
        for inp in meta['inputs']:
            src = inp['source']
            if src['kind'] == 'seeded':
                a = seeded(inp['shape'], inp['dtype'], src['seed'], src['lo'], src['hi'])
            else:
                a = from_frame(ref, src, inp['shape'], inp['dtype'])
            digest = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
            if digest != inp['sha256']:
                print(f'{m}/{c}: input {inp["name"]}: rebuilt input differs from the one tfjs ran (sha256)')
                bad += 1
            path = os.path.join(od, inp['file'])
            np.save(path, a.astype(np.float32))
            lst.append((inp['name'].split(':')[0], path))
        made[(m, c)] = lst
    return made, bad


def compare(ref, got, tol, models=None):
    fails = n = 0
    for m, c, d, meta in cases(ref, models):
        for o in meta['outputs']:
            n += 1
            tag = f'{m}/{c} {o["name"]}'
            path = os.path.join(got, m, c, o['file'])
            if not os.path.exists(path):
                print(f'FAIL {tag}: {path} is missing')
                fails += 1
                continue
            b = np.load(path)
            if list(b.shape) != list(o['shape']):
                print(f'FAIL {tag}: shape {list(b.shape)}, tfjs {o["shape"]}')
                fails += 1
                continue
            flat = b.reshape(-1).astype(np.float64)
            if 'sub' in o:
                cnt = o['sub']['count']
                idx = (np.arange(cnt, dtype=np.int64) * o['n']) // cnt
                lens_v = flat[idx]
                ref_v = np.load(os.path.join(d, o['sub']['file'])).astype(np.float64)
            else:
                lens_v = flat
                ref_v = np.load(os.path.join(d, o['file'])).reshape(-1).astype(np.float64)
            rng = o['max'] - o['min']
            # a constant output (one value: age) has no range: its magnitude
            scale = rng if rng > 0 else max(abs(o['max']), abs(o['min']))
            bound = tol * max(scale, 1e-6)
            worst = float(np.abs(lens_v - ref_v).max()) if ref_v.size else 0.0
            st = max(abs(flat.min() - o['min']), abs(flat.max() - o['max']), abs(flat.mean() - o['mean']))
            ok = worst <= bound and st <= bound and bool(np.isfinite(flat).all())
            kind = f'{ref_v.size} of {o["n"]}' if 'sub' in o else f'all {o["n"]}'
            print(f'{"ok  " if ok else "FAIL"} {tag}: max|diff| {worst:.3g} ({kind}), stats {st:.3g},'
                  f' bound {bound:.3g} (range {rng:.4g})')
            fails += not ok
    print(f'{n - fails}/{n} outputs within {tol:g} of their range')
    return fails


def main(argv):
    tol, models = 1e-4, None
    if '--tol' in argv:
        i = argv.index('--tol')
        tol = float(argv[i + 1])
        del argv[i:i + 2]
    if '--models' in argv:
        i = argv.index('--models')
        models = set(argv[i + 1].split(','))
        del argv[i:i + 2]
    if len(argv) == 3 and argv[0] == 'inputs':
        _, bad = make_inputs(argv[1], argv[2], models)
        return 1 if bad else 0
    if len(argv) == 3 and argv[0] == 'compare':
        return 1 if compare(argv[1], argv[2], tol, models) else 0
    if len(argv) == 5 and argv[0] == 'run':
        lens, mdir, ref, work = argv[1:]
        made, bad = make_inputs(ref, os.path.join(work, 'in'), models)
        for (m, c), lst in made.items():
            cmd = [lens, 'graph', 'run', os.path.join(mdir, m)]
            for name, path in lst:
                cmd += ['--input', f'{name}={path}']
            cmd += ['-o', os.path.join(work, 'out', m, c)]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode:
                print(f'FAIL {m}/{c}: lens graph run exited {r.returncode}: {r.stdout.strip()}')
                bad += 1
        return 1 if compare(ref, os.path.join(work, 'out'), tol, models) or bad else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
