// Parquet fixtures for tests/test_parquet.c, from three independent writers:
// arrow-rs (parquet-wasm), hyparquet-writer and parquetjs-lite.
//
//   node gen.mjs                 -> tests/fixtures/parquet/ (committed, < 3 MB)
//   node gen.mjs --big OUT.parquet [--rows N]
//                                -> the whole Steam CSV as one snappy file for
//                                   bench/parquet (not committed)
//
// The rows come from ../shared/data/steam/steam_reviews_willyuft.csv.xz
// ($LENS_SHARED overrides ../shared). The fixtures' source rows are saved as
// source.jsonl.zst (typed: ints, booleans, doubles, null where the CSV cell
// is empty) and manifest.json says which rows each file holds and how its
// extra columns derive from them, so the test can check every value.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import zlib from 'node:zlib'

import * as arrow from 'apache-arrow'
import { parquetWriteBuffer } from 'hyparquet-writer'
import * as pw from 'parquet-wasm/node'
import parquetjs from 'parquetjs-lite'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '../..')
const shared = process.env.LENS_SHARED || path.resolve(repo, '../shared')
const csvPath = path.join(shared, 'data/steam/steam_reviews_willyuft.csv.xz')
const outDir = path.join(repo, 'tests/fixtures/parquet')

// column, type as the source is typed
const COLS = [
  ['app_id', 'int32'], ['app_name', 'string'], ['recommendationid', 'int64'], ['language', 'string'],
  ['review', 'string'], ['voted_up', 'bool'], ['votes_up', 'int32'], ['votes_funny', 'int32'],
  ['weighted_vote_score', 'double'], ['comment_count', 'int32'], ['timestamp_created', 'int64'],
  ['timestamp_updated', 'int64'], ['playtime_at_review', 'int32'], ['playtime_forever', 'int32'],
  ['num_games_owned', 'int32'], ['num_reviews', 'int32'], ['steam_purchase', 'bool'],
  ['received_for_free', 'bool'], ['written_during_early_access', 'bool'],
]

// RFC 4180 with quoted newlines; yields arrays of fields
function* parseCsv(text) {
  let i = 0, field = '', row = [], quoted = false
  const n = text.length
  while (i < n) {
    const c = text[i]
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue }
        quoted = false; i++; continue
      }
      const j = text.indexOf('"', i)
      const end = j < 0 ? n : j
      field += text.slice(i, end); i = end; continue
    }
    if (c === '"') { quoted = true; i++; continue }
    if (c === ',') { row.push(field); field = ''; i++; continue }
    if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field); field = ''; i++
      yield row; row = []
      continue
    }
    let j = i
    while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r' && text[j] !== '"') j++
    field += text.slice(i, j); i = j
  }
  if (field !== '' || row.length) { row.push(field); yield row }
}

// typed row: an empty cell is null (an empty review stays "")
function typed(header, cells) {
  const o = {}
  for (const [name, type] of COLS) {
    const v = cells[header.indexOf(name)]
    if (v === undefined) throw new Error(`missing column ${name}`)
    if (type === 'string') o[name] = v === '' && name !== 'review' ? null : v
    else if (v === '') o[name] = null
    else if (type === 'bool') o[name] = v === '1' || v === 'true'
    else if (type === 'double') o[name] = Number(v)
    else o[name] = parseInt(v, 10)
  }
  return o
}

function readCsv() {
  const text = execFileSync('xz', ['-dc', csvPath], { maxBuffer: 1 << 30 }).toString('utf8')
  const it = parseCsv(text)
  const header = it.next().value
  const rows = []
  for (const cells of it) if (cells.length > 1) rows.push(typed(header, cells))
  return rows
}

// ------------------------------------------------------------------ writers

const ARROW_TYPE = {
  int32: () => new arrow.Int32(), int64: () => new arrow.Int64(), string: () => new arrow.Utf8(),
  bool: () => new arrow.Bool(), double: () => new arrow.Float64(),
}

// extra columns: derived from a source column, checked by the test
const DERIVED = {
  created_ms: { from: 'timestamp_created', kind: 'mul', k: 1000 },
  created_us: { from: 'timestamp_created', kind: 'mul', k: 1000000 },
  created_day: { from: 'timestamp_created', kind: 'div', k: 86400 },
  score_f32: { from: 'weighted_vote_score', kind: 'f32' },
  rec_be8: { from: 'recommendationid', kind: 'be8' },
  app_u32: { from: 'app_id', kind: 'same' },
}

function be8(v) {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(BigInt(v))
  return b
}

function arrowTable(rows, extra = []) {
  const cols = {}
  for (const [name, type] of COLS) {
    const vals = rows.map(r => (type === 'int64' && r[name] !== null ? BigInt(r[name]) : r[name]))
    cols[name] = arrow.vectorFromArray(vals, ARROW_TYPE[type]())
  }
  const ts = rows.map(r => r.timestamp_created)
  if (extra.includes('created_ms'))
    cols.created_ms = arrow.vectorFromArray(ts.map(t => t * 1000), new arrow.TimestampMillisecond())
  if (extra.includes('created_us'))
    // arrow-js takes timestamps in milliseconds whatever the unit
    cols.created_us = arrow.vectorFromArray(ts.map(t => t * 1000), new arrow.TimestampMicrosecond('UTC'))
  if (extra.includes('created_day'))
    cols.created_day = arrow.vectorFromArray(ts.map(t => new Date(Math.floor(t / 86400) * 86400000)), new arrow.DateDay())
  if (extra.includes('score_f32'))
    cols.score_f32 = arrow.vectorFromArray(rows.map(r => r.weighted_vote_score), new arrow.Float32())
  if (extra.includes('rec_be8'))
    cols.rec_be8 = arrow.vectorFromArray(rows.map(r => be8(r.recommendationid)), new arrow.FixedSizeBinary(8))
  if (extra.includes('app_u32'))
    cols.app_u32 = arrow.vectorFromArray(rows.map(r => r.app_id), new arrow.Uint32())
  return new arrow.Table(cols)
}

// DateDay takes Date objects or day numbers depending on the arrow version:
// check what comes back rather than trust it
function checkArrow(table, rows) {
  const day = table.getChild('created_day')
  if (day) {
    const want = Math.floor(rows[0].timestamp_created / 86400)
    const got = day.get(0)
    const asDays = got instanceof Date ? got.getTime() / 86400000 : Number(got) / (Number(got) > 1e7 ? 86400000 : 1)
    if (asDays !== want) throw new Error(`created_day: wrote ${got}, wanted day ${want}`)
  }
}

function writeArrow(file, rows, opts) {
  const table = arrowTable(rows, opts.extra || [])
  checkArrow(table, rows)
  const wt = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'))
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression[opts.codec])
    .setDictionaryEnabled(opts.dict)
    .setWriterVersion(opts.v2 ? pw.WriterVersion.V2 : pw.WriterVersion.V1)
    .setMaxRowGroupSize(opts.rowGroup || 128)
    .setDataPageSizeLimit(opts.pageBytes || 4096)
    .setWriteBatchSize(opts.batch || 64)
    .setCreatedBy('parquet-wasm 0.8.0 (arrow-rs) via lens gen.mjs')
  for (const [col, enc] of Object.entries(opts.encodings || {})) b = b.setColumnEncoding(col, pw.Encoding[enc])
  for (const [col, on] of Object.entries(opts.columnDict || {})) b = b.setColumnDictionaryEnabled(col, on)
  fs.writeFileSync(file, pw.writeParquet(wt, b.build()))
}

const zstdCompress = input => new Uint8Array(execFileSync('zstd', ['-q', '-c', '-3'], { input: Buffer.from(input) }))

function writeHyparquet(file, rows, opts = {}) {
  const columnData = COLS.map(([name, type]) => ({
    name,
    data: rows.map(r => (type === 'int64' && r[name] !== null ? BigInt(r[name]) : r[name])),
    type: { int32: 'INT32', int64: 'INT64', string: 'STRING', bool: 'BOOLEAN', double: 'DOUBLE' }[type],
    nullable: true,
    ...(opts.encodings && opts.encodings[name] ? { encoding: opts.encodings[name] } : {}),
  }))
  const buf = parquetWriteBuffer({
    columnData,
    codec: opts.codec || 'SNAPPY',
    compressors: { GZIP: b => new Uint8Array(zlib.gzipSync(b)), ZSTD: zstdCompress },
    ...(opts.rowGroup ? { rowGroupSize: opts.rowGroup } : {}),
    ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
    createdBy: 'hyparquet-writer 0.17.0 via lens gen.mjs',
  })
  fs.writeFileSync(file, new Uint8Array(buf))
}

async function writeParquetjs(file, rows, opts) {
  const T = { int32: 'INT32', int64: 'INT64', string: 'UTF8', bool: 'BOOLEAN', double: 'DOUBLE' }
  const fields = {}
  for (const [name, type] of COLS) fields[name] = { type: T[type], optional: true, compression: opts.codec }
  const schema = new parquetjs.ParquetSchema(fields)
  const w = await parquetjs.ParquetWriter.openFile(schema, file, { useDataPageV2: opts.v2, rowGroupSize: opts.rowGroup })
  w.setRowGroupSize(opts.rowGroup)
  for (const r of rows) {
    const o = {}
    for (const [name] of COLS) if (r[name] !== null) o[name] = r[name]
    await w.appendRow(o)
  }
  await w.close()
}

// ----------------------------------------------------------------- fixtures

// the five steamLens games in the data, then two whose rows have nulls
const GAMES = [[391540, 300], [1794680, 300], [239030, 300], [367520, 300], [504230, 300], [1742020, 100], [6920, 100]]

function pickSource(all) {
  const src = []
  for (const [app, n] of GAMES) {
    const rows = all.filter(r => r.app_id === app)
    // nulls first so the small cut has them, then in file order
    const nulls = rows.filter(r => COLS.some(([c]) => r[c] === null))
    const keep = new Set(nulls.slice(0, n))
    for (const r of rows) if (keep.size < n) keep.add(r)
    src.push(...rows.filter(r => keep.has(r)))
  }
  return src
}

async function fixtures() {
  const all = readCsv()
  const src = pickSource(all)
  fs.mkdirSync(outDir, { recursive: true })
  for (const f of fs.readdirSync(outDir)) if (f.endsWith('.parquet')) fs.rmSync(path.join(outDir, f))
  const jsonl = src.map(r => JSON.stringify(r)).join('\n') + '\n'
  fs.writeFileSync(path.join(outDir, 'source.jsonl.zst'), execFileSync('zstd', ['-q', '-c', '-19'], { input: jsonl }))

  const manifest = []
  const add = (file, writer, runs, extra = []) => {
    const d = {}
    for (const e of extra) d[e] = DERIVED[e]
    manifest.push({ file, writer, rows: runs, derived: d })
  }
  // every 5th source row: all games, nulls included, 340 rows
  const step = 5
  const mrows = src.filter((_, i) => i % step === 0)
  const mrun = [[0, step, mrows.length]]

  for (const codec of ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD'])
    for (const dict of [true, false])
      for (const v2 of [false, true]) {
        const f = `arrow_${codec.toLowerCase()}_${dict ? 'dict' : 'plain'}_${v2 ? 'v2' : 'v1'}.parquet`
        writeArrow(path.join(outDir, f), mrows, { codec, dict, v2 })
        add(f, 'arrow-rs', mrun)
      }
  // every logical type the test knows, dictionary and plain pages mixed
  const types = ['created_ms', 'created_us', 'created_day', 'score_f32', 'rec_be8', 'app_u32']
  writeArrow(path.join(outDir, 'arrow_types.parquet'), mrows, { codec: 'SNAPPY', dict: true, v2: false, extra: types,
    columnDict: { review: false, score_f32: false } })
  add('arrow_types.parquet', 'arrow-rs', mrun, types)
  // the DELTA encodings and BYTE_STREAM_SPLIT, asked for column by column
  const delta = {
    app_id: 'DELTA_BINARY_PACKED', recommendationid: 'DELTA_BINARY_PACKED', votes_up: 'DELTA_BINARY_PACKED',
    timestamp_created: 'DELTA_BINARY_PACKED', timestamp_updated: 'DELTA_BINARY_PACKED',
    playtime_at_review: 'DELTA_BINARY_PACKED', playtime_forever: 'DELTA_BINARY_PACKED',
    review: 'DELTA_LENGTH_BYTE_ARRAY', app_name: 'DELTA_BYTE_ARRAY', language: 'DELTA_BYTE_ARRAY',
    weighted_vote_score: 'BYTE_STREAM_SPLIT', score_f32: 'BYTE_STREAM_SPLIT', rec_be8: 'DELTA_BYTE_ARRAY',
    created_ms: 'DELTA_BINARY_PACKED', voted_up: 'RLE',
  }
  for (const codec of ['ZSTD', 'UNCOMPRESSED']) {
    const f = `arrow_delta_${codec.toLowerCase()}.parquet`
    writeArrow(path.join(outDir, f), mrows, { codec, dict: false, v2: codec === 'ZSTD', encodings: delta,
      extra: ['created_ms', 'score_f32', 'rec_be8'] })
    add(f, 'arrow-rs', mrun, ['created_ms', 'score_f32', 'rec_be8'])
  }
  const bss = { score_f32: 'BYTE_STREAM_SPLIT', rec_be8: 'BYTE_STREAM_SPLIT', votes_funny: 'BYTE_STREAM_SPLIT',
    recommendationid: 'BYTE_STREAM_SPLIT' }
  writeArrow(path.join(outDir, 'arrow_bss.parquet'), mrows, { codec: 'SNAPPY', dict: false, v2: true, encodings: bss,
    extra: ['score_f32', 'rec_be8'] })
  add('arrow_bss.parquet', 'arrow-rs', mrun, ['score_f32', 'rec_be8'])

  // hyparquet-writer: one file per game as the seed's data/review_<app>.json were laid out
  let at = 0
  for (const [app] of GAMES) {
    const rows = src.filter(r => r.app_id === app)
    const f = `review_${app}.parquet`
    writeHyparquet(path.join(outDir, f), rows)
    add(f, 'hyparquet-writer', [[at, 1, rows.length]])
    at += rows.length
  }
  for (const codec of ['UNCOMPRESSED', 'GZIP', 'ZSTD']) {
    const f = `hyparquet_${codec.toLowerCase()}.parquet`
    const encodings = codec === 'GZIP' ? { review: 'DELTA_LENGTH_BYTE_ARRAY', app_name: 'DELTA_BYTE_ARRAY',
      timestamp_created: 'DELTA_BINARY_PACKED', weighted_vote_score: 'BYTE_STREAM_SPLIT', votes_up: 'PLAIN' } : {}
    writeHyparquet(path.join(outDir, f), mrows, { codec, rowGroup: 100, pageSize: 2048, encodings })
    add(f, 'hyparquet-writer', mrun)
  }

  // parquetjs-lite: PLAIN and RLE only, its own page and level layout
  for (const [codec, v2] of [['GZIP', false], ['SNAPPY', true], ['UNCOMPRESSED', false]]) {
    const f = `parquetjs_${codec.toLowerCase()}_${v2 ? 'v2' : 'v1'}.parquet`
    await writeParquetjs(path.join(outDir, f), mrows, { codec, v2, rowGroup: 100 })
    add(f, 'parquetjs-lite', mrun)
  }

  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify({
    source: 'source.jsonl.zst', rows: src.length, files: manifest,
  }, null, 1) + '\n')
  let total = 0
  for (const f of fs.readdirSync(outDir)) {
    const p = path.join(outDir, f)
    if (fs.statSync(p).isFile()) total += fs.statSync(p).size
  }
  console.log(`${manifest.length} files, ${src.length} source rows, ${(total / 1e6).toFixed(2)} MB in ${outDir}`)
}

// ---------------------------------------------------------------- bench file

function big(out, limit) {
  let rows = readCsv()
  if (limit) rows = rows.slice(0, limit)
  fs.mkdirSync(path.dirname(out), { recursive: true })
  // arrow-rs defaults (1 MiB pages, dictionary falling back to plain), snappy,
  // 64k-row groups so a reader can stream
  writeArrow(out, rows, { codec: 'SNAPPY', dict: true, v2: false, rowGroup: 65536, pageBytes: 1 << 20, batch: 1024 })
  console.log(`${rows.length} rows, ${(fs.statSync(out).size / 1e6).toFixed(1)} MB -> ${out}`)
}

const args = process.argv.slice(2)
if (args[0] === '--big') {
  const i = args.indexOf('--rows')
  big(path.resolve(args[1]), i > 0 ? parseInt(args[i + 1], 10) : 0)
} else {
  await fixtures()
}
