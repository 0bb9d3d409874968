#!/usr/bin/env node
// ONNX Runtime (CPU) peer for the lens encoder benchmark.
//
//   node bench/encoder/ort_peer.mjs --model model.onnx --input IN.jsonl --threads N
//                                  [--batch 32] [--reps R] [--check REF.npy] [--tol 1e-4]
//
// IN.jsonl: one object per line with "ids" (token ids incl. [CLS]/[SEP], truncated).
// The model is the one tools/export_onnx.py writes: inputs input_ids, attention_mask,
// token_type_ids (int64 [batch, seq]), output sentence_embedding (float32 [batch, dim]).
// Texts are sorted by length into batches (padded with 0); one warm-up pass, then the
// best of --reps timed passes (default 1).  Prints one JSON line; with --check REF.npy (float32 or float64 [n, dim],
// input order) it also holds max_abs_diff and min_cosine against the reference, and the
// exit status is 1 when --tol is given and max_abs_diff exceeds it.
import fs from 'node:fs';
import ort from 'onnxruntime-node';

function parseArgs(argv) {
  const a = { batch: 32, threads: 1, reps: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${k}`);
      return argv[++i];
    };
    if (k === '--model') a.model = v();
    else if (k === '--input') a.input = v();
    else if (k === '--threads') a.threads = parseInt(v(), 10);
    else if (k === '--batch') a.batch = parseInt(v(), 10);
    else if (k === '--reps') a.reps = parseInt(v(), 10);
    else if (k === '--check') a.check = v();
    else if (k === '--tol') a.tol = parseFloat(v());
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.model || !a.input) throw new Error('usage: --model M.onnx --input IN.jsonl --threads N');
  if (!(a.threads >= 1) || !(a.batch >= 1)) throw new Error('bad --threads/--batch');
  return a;
}

function readIds(path) {
  const out = [];
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const ids = JSON.parse(line).ids;
    if (!Array.isArray(ids) || ids.length === 0) throw new Error('line without ids');
    out.push(ids);
  }
  return out;
}

// Minimal .npy reader: little-endian float32/float64, C order, 2-D.
function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not .npy`);
  const major = buf.readUInt8(6);
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const off = hstart + hlen;
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float64Array(n);
  if (descr === '<f4') for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(off + 4 * i);
  else if (descr === '<f8') for (let i = 0; i < n; i++) data[i] = buf.readDoubleLE(off + 8 * i);
  else throw new Error(`${path}: dtype ${descr} not supported`);
  return { shape, data };
}

function makeBatches(seqs, batch) {
  const order = seqs.map((s, i) => i).sort((x, y) => seqs[x].length - seqs[y].length || x - y);
  const batches = [];
  for (let s = 0; s < order.length; s += batch) {
    const idx = order.slice(s, s + batch);
    const L = Math.max(...idx.map((j) => seqs[j].length));
    const B = idx.length;
    const ids = new BigInt64Array(B * L);
    const mask = new BigInt64Array(B * L);
    const tt = new BigInt64Array(B * L);
    idx.forEach((j, r) => {
      seqs[j].forEach((t, c) => { ids[r * L + c] = BigInt(t); mask[r * L + c] = 1n; });
    });
    batches.push({
      idx,
      feeds: {
        input_ids: new ort.Tensor('int64', ids, [B, L]),
        attention_mask: new ort.Tensor('int64', mask, [B, L]),
        token_type_ids: new ort.Tensor('int64', tt, [B, L]),
      },
    });
  }
  return batches;
}

async function runAll(session, batches, n) {
  let out = null;
  let dim = 0;
  for (const b of batches) {
    const res = await session.run(b.feeds);
    const t = res.sentence_embedding;
    dim = t.dims[1];
    if (!out) out = new Float32Array(n * dim);
    b.idx.forEach((j, r) => out.set(t.data.subarray(r * dim, (r + 1) * dim), j * dim));
  }
  return { out, dim };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const seqs = readIds(args.input);
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const batches = makeBatches(seqs, args.batch);
  await runAll(session, batches, seqs.length); // warm-up
  // best of --reps timed passes, as bench_encoder reports lens
  let sec = Infinity, out, dim;
  for (let r = 0; r < args.reps; r++) {
    const t0 = process.hrtime.bigint();
    ({ out, dim } = await runAll(session, batches, seqs.length));
    sec = Math.min(sec, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const tokens = seqs.reduce((s, x) => s + x.length, 0);
  const rep = {
    peer: 'onnxruntime', precision: 'fp32',
    reviews_per_s: +(seqs.length / sec).toFixed(2),
    tokens_per_s: +(tokens / sec).toFixed(1),
    threads: args.threads, seconds: +sec.toFixed(4), n: seqs.length, tokens,
    ort_version: ort.env.versions?.node,
  };
  let fail = false;
  if (args.check) {
    const ref = readNpy(args.check);
    if (ref.shape.length !== 2 || ref.shape[0] !== seqs.length || ref.shape[1] !== dim) {
      throw new Error(`--check: reference shape [${ref.shape}] != [${seqs.length},${dim}]`);
    }
    let maxAbs = 0;
    let minCos = Infinity;
    let worst = -1;
    for (let i = 0; i < seqs.length; i++) {
      let dot = 0, na = 0, nb = 0;
      for (let d = 0; d < dim; d++) {
        const a = out[i * dim + d];
        const b = ref.data[i * dim + d];
        maxAbs = Math.max(maxAbs, Math.abs(a - b));
        dot += a * b; na += a * a; nb += b * b;
      }
      const c = dot / Math.sqrt(na * nb);
      if (c < minCos) { minCos = c; worst = i; }
    }
    Object.assign(rep, { check: args.check, max_abs_diff: maxAbs, min_cosine: minCos, worst_row: worst });
    if (args.tol !== undefined && !(maxAbs <= args.tol)) fail = true;
  }
  console.log(JSON.stringify(rep));
  if (fail) process.exitCode = 1;
}

main().catch((e) => { console.error(`ort_peer: ${e.message}`); process.exit(2); });
