// umap-js peer: reads a float32/float64 .npy matrix (or a .csv of numbers),
// runs umap-js 1.4.0 with UMAP's defaults and writes the embedding as a
// float32 .npy. Prints one line: "umap-js: N points in S s".
// usage: node umap_js.mjs IN.npy OUT.npy [--metric euclidean|cosine]
//        [--neighbors 15] [--min-dist 0.1] [--epochs 0] [--components 2] [--seed 42]
import fs from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { UMAP, cosine, euclidean } = require('umap-js');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: fortran order`);
  const off = hstart + hlen;
  const [n, d] = shape;
  const bytes = buf.subarray(off);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const flat = descr === '<f4' ? new Float32Array(ab) : descr === '<f8' ? new Float64Array(ab) : null;
  if (!flat) throw new Error(`${path}: dtype ${descr} not supported`);
  const rows = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = Array.from(flat.subarray(i * d, (i + 1) * d));
  return rows;
}

function readCsv(path) {
  return fs.readFileSync(path, 'utf8').trim().split('\n')
    .filter((l) => /^[-0-9.eE+, ]+$/.test(l)).map((l) => l.split(',').map(Number));
}

function writeNpy(path, rows) {
  const n = rows.length, d = rows[0].length;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1'); h[6] = 1; h[7] = 0; h.writeUInt16LE(header.length, 8);
  const data = new Float32Array(n * d);
  rows.forEach((r, i) => data.set(r, i * d));
  fs.writeFileSync(path, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
}

// mulberry32: a seeded generator so runs are repeatable
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const args = process.argv.slice(2);
const opt = { metric: 'euclidean', neighbors: 15, 'min-dist': 0.1, epochs: 0, components: 2, seed: 42 };
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith('--')) opt[args[i].slice(2)] = args[++i];
  else pos.push(args[i]);
}
if (pos.length !== 2) {
  console.error('usage: node umap_js.mjs IN.npy|IN.csv OUT.npy [--metric M] [--neighbors N] [--min-dist D] [--epochs N] [--seed S]');
  process.exit(2);
}
const X = pos[0].endsWith('.csv') ? readCsv(pos[0]) : readNpy(pos[0]);
const t0 = process.hrtime.bigint();
const umap = new UMAP({
  nNeighbors: Number(opt.neighbors), minDist: Number(opt['min-dist']), nComponents: Number(opt.components),
  nEpochs: Number(opt.epochs), random: rng(Number(opt.seed)),
  distanceFn: opt.metric === 'cosine' ? cosine : euclidean,
});
const Y = umap.fit(X);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
writeNpy(pos[1], Y);
console.log(`umap-js: ${X.length} points in ${s.toFixed(2)} s`);
