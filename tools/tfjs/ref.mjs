#!/usr/bin/env node
// Issue 14's parity references: runs each of the 12 human-models graphs with
// @tensorflow/tfjs (cpu backend, float32) on a seeded random input and on real
// frames cut from tests/fixtures/video, and writes OUT_DIR/<model>/<case>/:
// case.json (the input's recipe and sha256; each output's shape, sha256 and
// min/max/mean/std), each output as <name>.npy when it has at most SUB
// elements, else a deterministic subsample <name>.sub.npy (elements
// floor(k*n/SUB) of the flat tensor, k = 0..SUB-1); and each frame's RGB24
// image once, OUT_DIR/frames/<frame>.rgb.npy.gz (uint8) + <frame>.json.
// tests/graph_parity.py rebuilds every input from these recipes.
// --full also writes every input and output whole (<name>.npy).
// Usage: node tools/tfjs/ref.mjs MODELS_DIR OUT_DIR [--full] [--models a,b]
//        [--video DIR] (default tests/fixtures/video)
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as L from './lib.mjs';

const { tf } = L;
const SUB = 1024;
const SEED = 14;

const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(name); if (i < 0) return def; const v = argv[i + 1]; argv.splice(i, 2); return v; };
const full = argv.includes('--full'); if (full) argv.splice(argv.indexOf('--full'), 1);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const videoDir = opt('--video', join(root, 'tests/fixtures/video'));
const only = opt('--models', null);
if (argv.length !== 2) {
  console.error('usage: node tools/tfjs/ref.mjs MODELS_DIR OUT_DIR [--full] [--models a,b] [--video DIR]');
  process.exit(2);
}
const [modelsDir, outDir] = argv;
const models = only ? only.split(',') : L.MODELS;

await tf.setBackend('cpu');
await tf.ready();

function stats(a) {
  let min = Infinity, max = -Infinity, s = 0, s2 = 0;
  for (const v of a) { if (v < min) min = v; if (v > max) max = v; s += v; s2 += v * v; }
  const mean = s / a.length;
  return { min, max, mean, std: Math.sqrt(Math.max(0, s2 / a.length - mean * mean)) };
}

// Each frame's RGB24 image, cut once, written to OUT_DIR/frames/<frame>.rgb.npy.gz
// with its recipe in <frame>.json.
const frames = {};
function frameRgb(name, fr) {
  if (frames[name]) return frames[name];
  const { rgb, cmd } = L.cutFrame(videoDir, fr);
  const dir = join(outDir, 'frames');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.rgb.npy.gz`), gzipSync(L.npyBytes(rgb, [fr.h, fr.w, 3]), { level: 9 }));
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ ...fr, ffmpeg: cmd, sha256: L.sha256(rgb) }, null, 1) + '\n');
  frames[name] = rgb;
  return rgb;
}

for (const name of models) {
  const prep = L.PREP[name];
  if (!prep) { console.error(`ref.mjs: unknown model ${name}`); process.exit(2); }
  const { model, json } = await L.loadModel(join(modelsDir, name));
  const sig = L.signature(json);
  if (sig.inputs.length !== 1) throw new Error(`${name}: ${sig.inputs.length} inputs`);
  const inp = sig.inputs[0];
  const cases = { rand: null };
  for (const [fname, fr] of Object.entries(L.FRAMES)) {
    if ((prep.geom === 'face' || prep.geom === 'eye') && !fr.face) continue;
    cases[fname] = fr;
  }
  for (const [cname, fr] of Object.entries(cases)) {
    const dir = join(outDir, name, cname);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    let data, src;
    if (!fr) {
      data = L.seeded(inp.shape, inp.dtype, SEED, prep.lo, prep.hi);
      src = { kind: 'seeded', seed: SEED, lo: prep.lo, hi: prep.hi };
    } else {
      const [h, w] = prep.nchw ? [inp.shape[2], inp.shape[3]] : [inp.shape[1], inp.shape[2]];
      const reg = L.region(fr, prep.geom);
      data = L.normalise(L.place(frameRgb(cname, fr), fr, reg, h, w), prep, inp.shape);
      if (inp.dtype === 'int32') data = Int32Array.from(data);
      src = { kind: 'frame', frame: cname, region: reg, height: h, width: w, norm: prep.norm, nchw: !!prep.nchw };
    }
    const inFile = `${L.fileName(inp.name)}.npy`;
    if (full) L.writeNpy(join(dir, inFile), data, inp.shape);
    const feed = L.feeds(sig, { [inp.name]: data });
    const t0 = performance.now();
    const outs = await L.run(model, sig, feed);
    const ms = performance.now() - t0;
    const meta = {
      model: name, case: cname, tfjs: tf.version.tfjs, backend: tf.getBackend(),
      inputs: [{ name: inp.name, key: inp.key, file: inFile, shape: inp.shape, dtype: inp.dtype, sha256: L.sha256(data), source: src }],
      outputs: [],
    };
    for (let i = 0; i < outs.length; i++) {
      const t = outs[i]; const o = sig.outputs[i];
      let a = t.dataSync();
      a = t.dtype === 'int32' ? Int32Array.from(a) : Float32Array.from(a);
      const base = L.fileName(o.name);
      const rec = { name: o.name, key: o.key, file: `${base}.npy`, shape: t.shape, dtype: t.dtype, n: a.length, sha256: L.sha256(a), ...stats(a) };
      if (a.length <= SUB || full) L.writeNpy(join(dir, `${base}.npy`), a, t.shape.length ? t.shape : [1]);
      if (a.length > SUB) {
        const sub = new a.constructor(SUB);
        for (let k = 0; k < SUB; k++) sub[k] = a[Math.floor(k * a.length / SUB)];
        L.writeNpy(join(dir, `${base}.sub.npy`), sub, [SUB]);
        rec.sub = { file: `${base}.sub.npy`, count: SUB, rule: 'element floor(k*n/count) of the flat row-major tensor, k = 0..count-1' };
      }
      meta.outputs.push(rec);
    }
    tf.dispose(outs); tf.dispose(Object.values(feed));
    writeFileSync(join(dir, 'case.json'), JSON.stringify(meta, null, 1) + '\n');
    console.log(`${name}/${cname}: ${meta.outputs.map((o) => `${o.name}[${o.shape}] ${o.min.toPrecision(4)}..${o.max.toPrecision(4)}`).join(', ')} (${ms.toFixed(0)} ms)`);
  }
  model.dispose();
}
