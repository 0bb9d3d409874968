// The peer readers for bench/parquet: hyparquet (pure JS) and parquet-wasm
// (arrow-rs in WebAssembly) decode the same column of the same file; best of
// N runs, file read included as for lens. Modules come from
// tools/parquet_fixtures/node_modules (npm ci there).
//
//   node bench/parquet/peer.mjs FILE.parquet [COLUMN] [RUNS]
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const mods = path.resolve(here, '../../tools/parquet_fixtures/node_modules')
const hyparquet = await import(pathToFileURL(path.join(mods, 'hyparquet/src/node.js')))
const pw = await import(pathToFileURL(path.join(mods, 'parquet-wasm/node/parquet_wasm.js')))

const [file, column = 'review', runsArg = '3'] = process.argv.slice(2)
const runs = parseInt(runsArg, 10)

async function hyp() {
  const buf = fs.readFileSync(file)
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  let rows = 0, chars = 0
  await hyparquet.parquetRead({
    file: ab,
    columns: [column],
    onChunk: ({ columnData }) => {
      rows += columnData.length
      for (const s of columnData) if (s) chars += s.length
    },
  })
  return { rows, chars }
}

function wasm() {
  const bytes = new Uint8Array(fs.readFileSync(file))
  const t = pw.readParquet(bytes, { columns: [column] })
  let rows = 0
  for (let i = 0; i < t.numBatches; i++) {
    const b = t.recordBatch(i)
    rows += b.numRows
    b.free()
  }
  t.free()
  return { rows, chars: 0 }
}

for (const [name, fn] of [['hyparquet', hyp], ['parquet-wasm', wasm]]) {
  let best = Infinity, bestCpu = Infinity, out
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage()
    out = await fn()
    const dt = Number(process.hrtime.bigint() - t0) / 1e9
    const c = process.cpuUsage(c0), dc = (c.user + c.system) / 1e6 // all of node's threads, GC included
    if (dt < best) best = dt
    if (dc < bestCpu) bestCpu = dc
  }
  console.log(`${name}: column ${column}: ${out.rows} rows; best of ${runs}: ${best.toFixed(4)} s (cpu ${bestCpu.toFixed(4)} s), ${(out.rows / best).toFixed(0)} rows/s`)
  console.log(`RESULT ${name} seconds=${best.toFixed(6)} cpu=${bestCpu.toFixed(6)} rows=${out.rows}`)
}
