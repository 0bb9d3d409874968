#!/usr/bin/env node
// bench/vision, the tfjs side (issue 14, section 4): frames per second of each
// of the 12 human-models graphs on @tensorflow/tfjs-backend-wasm (XNNPACK,
// SIMD, N threads) and on tfjs's cpu backend (plain JS: one thread whatever N),
// batch 1, the same seeded input as the parity references (tools/tfjs/lib.mjs,
// seed 14) for every backend. Per model and backend: warm-up runs, then up
// to REPS timed runs (execute + reading every output back), stopping early
// once MAX_S seconds are spent (one timed run at least); fps = runs / seconds.
// Prints a markdown table and one JSON line per model and backend (also to
// --json FILE). FLOPs per frame and lens's figures come from bench/vision/run.sh.
// Threads: tfjs-backend-wasm 4.22 turns multithreading off under node
// (WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, tfjs issue #3830), so
// here its wasm rows are SIMD + XNNPACK on ONE thread whatever --threads says;
// the JSON's "threads" is the count the backend reports. Forcing the flag on
// loads the threaded binary only with shims for its blob: workers, and its
// pool still reports 1 thread; N-thread tfjs-wasm figures need a browser
// (Chromium, cross-origin isolated: tests/browser has playwright-core).
// Usage: node bench/vision/tfjs.mjs MODELS_DIR [--threads N] [--reps R]
//        [--max-s S] [--models a,b] [--backends wasm,cpu] [--json FILE]
// Needs tools/tfjs's packages: (cd tools/tfjs && npm ci).
import { appendFileSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import * as L from '../../tools/tfjs/lib.mjs';

const { tf } = L;
const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, def) => { const i = argv.indexOf(name); if (i < 0) return def; const v = argv[i + 1]; argv.splice(i, 2); return v; };
const threads = parseInt(opt('--threads', String(cpus().length)), 10);
const reps = parseInt(opt('--reps', '10'), 10);
const maxS = parseFloat(opt('--max-s', '20'));
const models = opt('--models', L.MODELS.join(',')).split(',');
const backends = opt('--backends', 'wasm,cpu').split(',');
const jsonFile = opt('--json', null);
if (argv.length !== 1 || !(threads >= 1) || !(reps >= 1)) {
  console.error('usage: node bench/vision/tfjs.mjs MODELS_DIR [--threads N] [--reps R] [--max-s S] [--models a,b] [--backends wasm,cpu] [--json FILE]');
  process.exit(2);
}
const modelsDir = argv[0];
if (jsonFile) writeFileSync(jsonFile, '');

// The wasm backend (a separate package; it reads its .wasm files from disk in
// node). setThreadsCount must come before the backend starts.
const wasm = await L.wasmBackend();
const wasmDir = resolve(here, '../../tools/tfjs/node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/';
wasm.setWasmPaths(wasmDir);
wasm.setThreadsCount(threads);

const rows = {};
const info = {};
for (const backend of backends) {
  if (!(await tf.setBackend(backend))) { console.error(`tfjs.mjs: backend ${backend} did not start`); process.exit(1); }
  await tf.ready();
  if (backend === 'wasm') {
    info.wasm = { simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'), threads: wasm.getThreadsCount() };
    console.error(`wasm: simd ${info.wasm.simd}, multithread ${info.wasm.multithread}, threads ${info.wasm.threads}`);
  }
  for (const name of models) {
    const prep = L.PREP[name];
    if (!prep) { console.error(`tfjs.mjs: unknown model ${name}`); process.exit(2); }
    const { model, json } = await L.loadModel(join(modelsDir, name));
    const sig = L.signature(json);
    const inp = sig.inputs[0];
    const feed = L.feeds(sig, { [inp.name]: L.seeded(inp.shape, inp.dtype, 14, prep.lo, prep.hi) });
    const once = async () => {
      const outs = await L.run(model, sig, feed);
      for (const t of outs) await t.data();
      tf.dispose(outs);
    };
    // warm-up: kernels compiled, weights uploaded, shapes seen, caches warm:
    // 3 runs, or fewer once 2 s are spent (the cpu backend's big models)
    for (let w = 0, t = performance.now(); w < 3 && (w === 0 || performance.now() - t < 2000); w++) await once();
    let n = 0;
    const t0 = performance.now();
    while (n < reps && (n === 0 || performance.now() - t0 < maxS * 1000)) { await once(); n++; }
    const s = (performance.now() - t0) / 1000;
    const r = { model: name, input: inp.shape, backend: backend === 'wasm' ? 'tfjs-wasm' : 'tfjs-cpu', threads: backend === 'wasm' ? info.wasm.threads : 1,
      runs: n, seconds: +s.toFixed(3), fps: +(n / s).toFixed(3), ms_per_frame: +(1000 * s / n).toFixed(2), tfjs: tf.version.tfjs,
      ...(backend === 'wasm' ? { simd: info.wasm.simd, multithread: info.wasm.multithread } : {}) };
    console.log(JSON.stringify(r));
    if (jsonFile) appendFileSync(jsonFile, JSON.stringify(r) + '\n');
    (rows[name] ??= { input: inp.shape })[r.backend] = r;
    tf.dispose(Object.values(feed));
    model.dispose();
  }
}

const fmt = (r) => (r ? `${r.fps.toFixed(r.fps < 10 ? 2 : 1)}` : '—');
console.log(`\n| model | input | tfjs-wasm fps (${info.wasm ? info.wasm.threads : '-'} thr) | tfjs-cpu fps (1 thr) |`);
console.log('|---|---|---:|---:|');
for (const [name, r] of Object.entries(rows)) console.log(`| ${name} | ${r.input.join('x')} | ${fmt(r['tfjs-wasm'])} | ${fmt(r['tfjs-cpu'])} |`);
