#!/usr/bin/env node
// Reference WordPiece token ids for lens' C tokenizer tests, computed with
// transformers.js (npm @huggingface/transformers, pinned in tools/package.json).
//
// Usage: node tools/tokenize_ref.mjs IN.jsonl OUT.jsonl [--max-len L]
//
// Every input line is a JSON object with a "text" field. The output line is the
// same object (same key order) with "ids" appended: the full encoding with
// special tokens ([CLS]=101 ... [SEP]=102), no padding, no truncation.
// With --max-len L, encodings longer than L become ids[:L-1] + [SEP]
// (sentence-transformers semantics: [CLS] ... [SEP] is kept).
// transformers.js' own `truncation: true` is NOT used: it cuts the tail,
// dropping the final [SEP].
//
// The tokenizer is loaded strictly offline from
// models/all-MiniLM-L6-v2/{tokenizer.json,tokenizer_config.json} (vendored).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as transformers from '@huggingface/transformers';

const { env } = transformers;
env.allowRemoteModels = false;
env.useBrowserCache = false;
env.useFSCache = false;

function usage(msg) {
    if (msg) console.error(`tokenize_ref: ${msg}`);
    console.error('usage: node tools/tokenize_ref.mjs IN.jsonl OUT.jsonl [--max-len L]');
    process.exit(2);
}

const positional = [];
let maxLen = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--max-len') {
        maxLen = Number(argv[++i]);
        if (!Number.isInteger(maxLen) || maxLen < 2) usage('--max-len needs an integer >= 2');
    } else if (a.startsWith('--max-len=')) {
        maxLen = Number(a.slice('--max-len='.length));
        if (!Number.isInteger(maxLen) || maxLen < 2) usage('--max-len needs an integer >= 2');
    } else if (a.startsWith('--')) {
        usage(`unknown option ${a}`);
    } else {
        positional.push(a);
    }
}
if (positional.length !== 2) usage();
const [inPath, outPath] = positional;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = path.join(repoRoot, 'models', 'all-MiniLM-L6-v2');
const tokenizerJSON = JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8'));
const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer_config.json'), 'utf8'));

// Same as AutoTokenizer.from_pretrained(), which does `new cls(tokenizerJSON, tokenizerConfig)`
// with cls picked by tokenizer_config.tokenizer_class, minus any file/hub lookup.
const cls = transformers[tokenizerConfig.tokenizer_class] ?? transformers.PreTrainedTokenizer;
const tokenizer = new cls(tokenizerJSON, tokenizerConfig);
const CLS = tokenizer.cls_token_id ?? tokenizer.convert_tokens_to_ids('[CLS]');
const SEP = tokenizer.sep_token_id;
if (CLS !== 101 || SEP !== 102) throw new Error(`unexpected special ids CLS=${CLS} SEP=${SEP}`);

function encodeFull(text) {
    // encode() = the underlying Tokenizer.encode with add_special_tokens; it applies
    // no truncation and no padding (tokenizer.json's truncation/padding blocks are ignored).
    const ids = tokenizer.encode(text, { add_special_tokens: true });
    if (ids[0] !== CLS || ids[ids.length - 1] !== SEP) {
        throw new Error(`encoding not wrapped in [CLS] ... [SEP]: ${JSON.stringify(text).slice(0, 80)}`);
    }
    return ids;
}

const input = fs.readFileSync(inPath, 'utf8');
// Split on '\n' only: JSON strings may legally hold raw U+2028/U+0085.
const lines = input.split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const out = [];
let nTrunc = 0;
let maxTok = 0;
let sumTok = 0;
for (let i = 0; i < lines.length; i++) {
    const obj = JSON.parse(lines[i]);
    if (typeof obj.text !== 'string') throw new Error(`${inPath}:${i + 1}: no "text" string`);
    let ids = encodeFull(obj.text);
    maxTok = Math.max(maxTok, ids.length);
    sumTok += ids.length;
    if (maxLen !== null && ids.length > maxLen) {
        ids = ids.slice(0, maxLen - 1);
        ids.push(SEP);
        nTrunc++;
    }
    delete obj.ids;
    obj.ids = ids;
    out.push(JSON.stringify(obj));
}
fs.writeFileSync(outPath + '.tmp', out.join('\n') + (out.length ? '\n' : ''));
fs.renameSync(outPath + '.tmp', outPath);
console.error(
    `tokenize_ref: ${lines.length} lines -> ${outPath}; tokens max ${maxTok}, mean ${(sumTok / Math.max(1, lines.length)).toFixed(1)}` +
        (maxLen !== null ? `; ${nTrunc} truncated to ${maxLen}` : ''),
);
