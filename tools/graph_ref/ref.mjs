// Reference outputs of a TF.js graph model for lens's parity tests:
// @tensorflow/tfjs on its CPU backend (float32) runs MODEL_DIR/model.json on
// seeded uniform [0, 1) inputs (batch 1; x255 for int32 inputs) and writes
// OUT_DIR/input_<name>.npy and OUT_DIR/<output name>.npy (':' and '/' -> '_';
// output names and input shapes as the model's signature gives them, as lens).
//   usage: node tools/graph_ref/ref.mjs MODEL_DIR OUT_DIR [SEED] [MAX_BYTES]
// (npm install in tools/graph_ref first)
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const [dir, out, seedArg, maxArg] = process.argv.slice(2);
const maxBytes = Number(maxArg || 0); // outputs over it: every 64th value, as NAME.every64.npy
if (!dir || !out) {
  console.error('usage: node ref.mjs MODEL_DIR OUT_DIR [SEED]');
  process.exit(2);
}
const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
const specs = [];
const bufs = [];
for (const g of j.weightsManifest) {
  specs.push(...g.weights);
  for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
}
const all = Buffer.concat(bufs);
const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);

function npy(file, data, shape, isInt) {
  const dict = `{'descr': '${isInt ? '<i4' : '<f4'}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = (64 - ((10 + dict.length + 1) % 64)) % 64;
  const header = dict + ' '.repeat(pad) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre);
  pre[6] = 1; pre[7] = 0; pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(isInt ? Int32Array.from(data).buffer : Float32Array.from(data).buffer);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

let s = Number(seedArg || 1) >>> 0;
const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);

await tf.setBackend('cpu');
const model = await tf.loadGraphModel(tf.io.fromMemory({
  modelTopology: j.modelTopology, weightSpecs: specs, weightData, format: j.format,
  generatedBy: j.generatedBy, convertedBy: j.convertedBy, signature: j.signature,
  userDefinedMetadata: j.userDefinedMetadata,
}));
fs.mkdirSync(out, { recursive: true });
// the signature's names and shapes, as lens plans with them (open dims as 1)
const sig = j.signature || (j.userDefinedMetadata && j.userDefinedMetadata.signature) || {};
const sigDims = (name, fallback) => {
  const e = Object.values(sig.inputs || {}).find((x) => x.name.replace(/:0$/, '') === name);
  const dims = e && e.tensorShape && e.tensorShape.dim ? e.tensorShape.dim.map((d) => Number(d.size || 0)) : fallback;
  return dims.map((d) => (d < 0 ? 1 : d));
};
const sigName = (name) => {
  const e = Object.values(sig.outputs || {}).find((x) => x.name.replace(/:0$/, '') === name);
  return e ? e.name : `${name}:0`;
};
const feeds = {};
for (const inp of model.inputs) {
  const shape = sigDims(inp.name, inp.shape);
  const n = shape.reduce((a, b) => a * b, 1);
  const isInt = inp.dtype === 'int32';
  const vals = new Float32Array(n).map(() => (isInt ? Math.floor(rand() * 256) : rand()));
  npy(path.join(out, `input_${inp.name.replace(/[:/]/g, '_')}.npy`), vals, shape, false);
  feeds[inp.name] = tf.tensor(vals, shape, inp.dtype);
}
const names = model.outputs.map((o) => o.name);
let res = model.execute(feeds, names);
if (!Array.isArray(res)) res = [res];
for (let i = 0; i < names.length; i++) {
  const t = res[i];
  const name = names[i].includes(':') ? names[i] : sigName(names[i]); // as lens and the signature name it
  const data = t.dataSync();
  if (maxBytes && data.length * 4 > maxBytes) { // every 64th value of the flat output, for a small reference
    const sub = data.filter((_, k) => k % 64 === 0);
    npy(path.join(out, `${name.replace(/[:/]/g, '_')}.every64.npy`), sub, [sub.length], t.dtype === 'int32');
  } else {
    npy(path.join(out, `${name.replace(/[:/]/g, '_')}.npy`), data, t.shape, t.dtype === 'int32');
  }
}
console.log(`${path.basename(dir)}: ${names.length} outputs, ${model.inputs.map((x) => x.name).join(', ')}`);
