#!/usr/bin/python3
"""Expected ids where transformers.js and HF tokenizers (Rust) disagree.

The tokenizer reference fixture comes from transformers.js. sentence-transformers
tokenizes with HF tokenizers (Rust), which differs from transformers.js in two
places, both read in the sources:
  * final sigma: JS toLowerCase() maps a word-final Σ to ς; Rust lowercases char
    by char (Σ -> σ always);
  * astral CJK: JS checks CJK ranges per UTF-16 unit, so Extension B+ ideographs
    get no spaces around them; Rust checks code points (with its range starting
    at 0x2B920 where BERT's Python code says 0x2B820).
lens follows Rust. This script is an independent Python model of the Rust
BertNormalizer/BertPreTokenizer/WordPiece; it re-encodes every fixture line and
writes the lines where Rust semantics give other ids than the fixture:
    {"rid": ..., "ids": [...Rust-semantics ids...]}
No real review in the shared Steam data is affected (checked over all 309,991).

usage: tools/hf_rust_divergences.py [FIXTURE.jsonl.zst] [OUT.jsonl]
"""
import json
import os
import subprocess
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(ROOT, "models", "all-MiniLM-L6-v2", "vocab.txt")
ADDED = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}
WS = set("\t\n\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def is_punct(ch):
    o = ord(ch)
    return (33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126
            or unicodedata.category(ch).startswith("P"))


def split_added(t):
    out, start, i = [], 0, 0
    while i < len(t):
        m = max((k for k in ADDED if t.startswith(k, i)), key=len, default=None)
        if m:
            if i > start:
                out.append(t[start:i])
            out.append(m)
            i += len(m)
            start = i
        else:
            i += 1
    if start < len(t):
        out.append(t[start:])
    return out


def normalize(t):
    t = "".join(" " if ch in WS else ch for ch in t
                if ord(ch) not in (0, 0xFFFD)
                and (ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")))
    t = "".join(" %s " % ch if is_cjk(ord(ch)) else ch for ch in t)
    t = "".join(c for c in unicodedata.normalize("NFD", t) if unicodedata.category(c) != "Mn")
    return "".join(c.lower() for c in t)  # per char: no final-sigma context


def words(t):
    out, cur = [], []
    for ch in t:
        if ch in WS or is_punct(ch):
            if cur:
                out.append("".join(cur))
                cur = []
            if ch not in WS:
                out.append(ch)
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def wordpiece(w, vocab):
    if len(w) > 100:
        return [100]
    out, s = [], 0
    while s < len(w):
        e, cur = len(w), None
        while s < e:
            sub = w[s:e] if s == 0 else "##" + w[s:e]
            if sub in vocab:
                cur = vocab[sub]
                break
            e -= 1
        if cur is None:
            return [100]
        out.append(cur)
        s = e
    return out


def encode(text, vocab):
    ids = [101]
    for sec in split_added(text):
        if sec in ADDED:
            ids.append(ADDED[sec])
        else:
            for w in words(normalize(sec)):
                ids += wordpiece(w, vocab)
    return ids + [102]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests/fixtures/tokenizer_ref.jsonl.zst")
    dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "tests/fixtures/tokenizer_hf_divergences.jsonl")
    vocab = {}
    with open(VOCAB, encoding="utf-8") as f:
        for i, line in enumerate(f):
            vocab.setdefault(line.rstrip("\n"), i)
    data = subprocess.run(["zstd", "-dc", src], check=True, capture_output=True).stdout.decode("utf-8")
    out = []
    for line in data.split("\n"):
        if not line:
            continue
        rec = json.loads(line)
        ids = encode(rec["text"], vocab)
        if ids != rec["ids"]:
            out.append({"rid": rec["rid"], "ids": ids})
    with open(dst, "w", encoding="utf-8") as f:
        for rec in out:
            f.write(json.dumps(rec) + "\n")
    print("%d lines where HF tokenizers (Rust) semantics differ from the fixture -> %s" % (len(out), dst))


if __name__ == "__main__":
    main()
