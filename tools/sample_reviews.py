#!/usr/bin/python3
"""Deterministically sample Steam reviews for the tokenizer reference fixtures.

Reads $LENS_SHARED/data/steam/steam_reviews_willyuft.csv.xz (LENS_SHARED
defaults to <repo root>/../shared) and writes two JSONL files:

  --reviews-out  (default tests/fixtures/tokenizer_reviews.jsonl)
      20,000 real reviews chosen to cover awkward input (every language,
      empty/whitespace-only reviews, the longest reviews, markup, URLs, emoji,
      non-Latin scripts, ASCII art, control/format characters, ...) plus a
      uniform random fill, followed by hand-written synthetic edge cases
      (rid "synthetic-N", lang "synthetic").
      Fields: rid, lang, text.

  --sample-out   (default tests/fixtures/reviews_2k.jsonl)
      2,000 non-empty real reviews, a plain uniform random sample.
      Fields: rid, lang, app_id, text.

Python standard library only. Output depends only on the input file and the
seeds below (records are written in input-file order, synthetic ones last).
"""

import argparse
import csv
import json
import lzma
import os
import random
import re
import sys

import shared_data

SEED_COVERAGE = 20240601
SEED_SAMPLE_2K = 77123
N_COVERAGE = 20000
N_SAMPLE_2K = 2000

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------
# Loading


def load_reviews(path):
    csv.field_size_limit(sys.maxsize)
    rows = []
    with lzma.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            rows.append((row["recommendationid"], row["language"], row["app_id"], row["review"]))
    return rows


# --------------------------------------------------------------------------
# Feature detection (simple regex / code point checks)

RE_MARKUP = re.compile(
    r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*[^<>]{0,200}>"
    r"|\[\s*/?\s*(?:b|i|u|s|h[1-6]|hr|spoiler|strike|url|img|list|olist|\*|quote|code|table|tr|td|th|noparse)\b[^\]]{0,200}\]",
    re.IGNORECASE,
)
RE_URL = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|io|gg|ly|tv)\b", re.IGNORECASE)
RE_ASCII_ART_RUN = re.compile(r"[^\w\s]{12,}|(?:[^\w\s] ?){20,}")


def in_ranges(o, ranges):
    for lo, hi in ranges:
        if lo <= o <= hi:
            return True
    return False


SCRIPTS = {
    "cjk": [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF), (0x3000, 0x303F)],
    "kana": [(0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)],
    "hangul": [(0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)],
    "cyrillic": [(0x0400, 0x052F)],
    "greek": [(0x0370, 0x03FF), (0x1F00, 0x1FFF)],
    "arabic": [(0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    "hebrew": [(0x0590, 0x05FF)],
    "thai": [(0x0E00, 0x0E7F)],
    "indic": [(0x0900, 0x0DFF)],
    "other_script": [(0x0530, 0x058F), (0x0700, 0x08FF), (0x0E80, 0x10FF), (0x1200, 0x1FFF), (0xA000, 0xABFF)],
}
EMOJI = [(0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF), (0x1F1E6, 0x1F1FF)]
ART_SYMBOLS = [(0x2500, 0x259F), (0x25A0, 0x25FF), (0x2800, 0x28FF), (0x2190, 0x23FF)]
FULLWIDTH_MATH = [(0xFF00, 0xFFEF), (0x1D400, 0x1D7FF), (0x2100, 0x214F), (0x2460, 0x24FF)]
ODD_SPACE = {0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} | set(range(0x2000, 0x200B))
COMBINING = [(0x0300, 0x036F), (0x0483, 0x0489), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE00, 0xFE0F), (0xFE20, 0xFE2F)]
ACCENTED_LATIN = [(0x00C0, 0x024F), (0x1E00, 0x1EFF)]


def features(text):
    """Set of coverage category names that `text` belongs to."""
    f = set()
    if not text.strip():
        f.add("empty")
        return f
    if RE_MARKUP.search(text):
        f.add("markup")
    if RE_URL.search(text):
        f.add("url")
    if RE_ASCII_ART_RUN.search(text):
        f.add("ascii_art")
    for ch in text:
        o = ord(ch)
        if o < 0x80:
            if (o < 0x20 and ch not in "\t\n\r") or o == 0x7F:
                f.add("control")
            continue
        if 0x80 <= o < 0xA0 and o != 0x85:
            f.add("control")
        elif o in ODD_SPACE:
            f.add("odd_space")
        elif in_ranges(o, ACCENTED_LATIN):
            f.add("accented_latin")
        elif in_ranges(o, COMBINING):
            f.add("combining")
        elif in_ranges(o, EMOJI):
            f.add("emoji")
            if 0x1FA70 <= o <= 0x1FAFF:
                f.add("recent_emoji")  # Unicode 12-16 additions: category differs across Unicode versions
        elif in_ranges(o, ART_SYMBOLS):
            f.add("ascii_art")
        elif in_ranges(o, FULLWIDTH_MATH):
            f.add("fullwidth_math")
        elif (0x200B <= o <= 0x200F) or (0x202A <= o <= 0x202E) or (0x2060 <= o <= 0x206F) \
                or o in (0xFEFF, 0xFFFD, 0xAD) or 0xE000 <= o <= 0xF8FF or o >= 0xE0000:
            f.add("control")  # format / invisible / private use / replacement char
        else:
            for name, ranges in SCRIPTS.items():
                if in_ranges(o, ranges):
                    f.add(name)
                    break
            else:
                if o > 0x2000:
                    f.add("other_symbol")
    return f


# Category -> cap (how many reviews of that category are taken at most).
CAPS = [
    ("empty", 200),
    ("control", 600),
    ("odd_space", 400),
    ("combining", 400),
    ("cjk", 400),
    ("kana", 300),
    ("hangul", 300),
    ("cyrillic", 300),
    ("greek", 300),
    ("arabic", 300),
    ("hebrew", 300),
    ("thai", 300),
    ("indic", 300),
    ("other_script", 300),
    ("recent_emoji", 200),
    ("emoji", 1000),
    ("ascii_art", 600),
    ("fullwidth_math", 300),
    ("other_symbol", 500),
    ("markup", 1000),
    ("url", 500),
    ("accented_latin", 500),
]
N_LONGEST = 300
PER_LANGUAGE = 500


def select_coverage(rows, rng):
    """Return sorted row indices of the coverage sample."""
    chosen = set()

    def take(candidates, cap):
        cands = [i for i in candidates if i not in chosen]
        if len(cands) > cap:
            cands = rng.sample(cands, cap)
        chosen.update(cands)

    by_lang = {}
    for i, r in enumerate(rows):
        by_lang.setdefault(r[1], []).append(i)
    for lang in sorted(by_lang):
        take([i for i in by_lang[lang] if rows[i][3].strip()], PER_LANGUAGE)

    feats = [features(r[3]) for r in rows]
    # Prefer whitespace-only reviews over the plain empty string ones.
    ws_only = [i for i, r in enumerate(rows) if r[3] and "empty" in feats[i]]
    take(ws_only, 200)
    empty_cap = max(0, dict(CAPS)["empty"] - len(ws_only))
    take([i for i, r in enumerate(rows) if not r[3]], empty_cap)

    longest = sorted(range(len(rows)), key=lambda i: (-len(rows[i][3]), i))[:N_LONGEST]
    chosen.update(longest)

    for name, cap in CAPS:
        if name == "empty":
            continue
        take([i for i in range(len(rows)) if name in feats[i]], cap)

    stats = {name: sum(1 for i in chosen if name in feats[i]) for name, _ in CAPS}
    n_special = len(chosen)
    rest = [i for i in range(len(rows)) if i not in chosen]
    chosen.update(rng.sample(rest, N_COVERAGE - n_special))
    return sorted(chosen), n_special, stats


# --------------------------------------------------------------------------
# Synthetic edge cases


def synthetic_texts():
    long_word_150 = "".join("abcdefghij"[i % 10] for i in range(150))
    w99 = "x" * 99
    w100 = "y" * 100
    w101 = "z" * 101
    sentence = ("The quick brown fox jumps over the lazy dog; naïve café déjà vu, 1,000.50$ "
                "e-mail state-of-the-art [SEP] 日本語テキスト 😀 ")
    long_text = (sentence * (20000 // len(sentence) + 1))[:20000]
    t = [
        # special tokens inside raw text
        "Before [SEP] after",
        "[CLS] starts here and ends with [SEP]",
        "mask this [MASK] please",
        "lowercase [sep] [cls] [mask] are not special",
        "a[SEP]b",
        "[SEP][SEP][CLS][MASK]",
        "[UNK] and [PAD] literally",
        "  [SEP]  padded special  [SEP]  ",
        "[ SEP ] [SEP [SEP]] [[SEP]]",
        "[unused0] [unused1] ##ing ## #",
        # control / format / replacement characters
        "null\x00byte and \x01 soh and \x7f del",
        "zero\u200bwidth space, zw\u200djoiner, bom\ufeffinside, \ufeffleading bom",
        "replacement \ufffd char and \ufffd\ufffd",
        "\x1b[31mansi escape\x1b[0m and \x08 backspace \x0b vt \x0c ff",
        "c1 controls: \x80 \x81 \x9f here",
        "soft\u00adhyphen and lrm\u200emark rlm\u200f and \u2066isolate\u2069",
        # whitespace variety
        "tab\tseparated\twords",
        "cr\rlf\ncrlf\r\nend",
        "nbsp\u00a0here ideographic\u3000space line\u2028sep para\u2029sep nel\u0085end",
        "en\u2002em\u2003thin\u2009hair\u200anarrow\u202fmath\u205fogham\u1680end",
        "   leading and trailing whitespace   \n\t ",
        " \t\n\r\u00a0\u3000 ",
        # CJK
        "中文字符测试，你好世界！",
        "Extension B: \U00020000\U0002A6D6 and ext A \u3400\u4dbf",
        "compat ideographs \uf900\ufa0e\ufa6d \U0002f800\U0002fa1d",
        "mixed漢字and english中間text",
        "ひらがな カタカナ ｶﾀｶﾅ half-width, ゲーム最高です",
        "한국어 텍스트 게임이 재미있어요",
        "\u1100\u1161\u11a8 conjoining jamo vs 각",
        # casing / normalization
        "ΟΔΟΣ Σ ΣΑΣ σ ς Οδυσσεύς",
        "İstanbul ı I İ i \u0130\u0307",
        "Straße STRASSE ß ẞ",
        "ﬁnancial ﬂow ﬀ ﬃ ﬄ ﬅ ﬆ",
        "Ｆｕｌｌｗｉｄｔｈ ＬＥＴＴＥＲＳ １２３ ！？",
        "combining: e\u0301 a\u0300 o\u0308 n\u0303 z\u0335\u0336\u0337 Z\u0311\u0302\u0300",
        "Ångström Ça va? Ñandú Øre Łódź Ærø ǅ ǈ ǋ Ǳ",
        "naïve café résumé coöperate déjà vu",
        "𝓗𝓮𝓵𝓵𝓸 𝐁𝐨𝐥𝐝 𝕯𝖔𝖚𝖇𝖑𝖊 ① ② ℌ ℃ ™ ½ ²",
        "ﾟ∀ﾟ (╯°□°）╯︵ ┻━┻ ¯\\_(ツ)_/¯",
        # other scripts
        "مرحبا بالعالم هذه لعبة رائعة",
        "שלום עולם משחק טוב",
        "สวัสดีชาวโลก เกมนี้ดีมาก",
        "नमस्ते दुनिया यह खेल अच्छा है",
        "Привет мир! Ёлка ЁЖ",
        "Ελληνικά κείμενο ά έ ή ί ΐ",
        "ქართული Հայերեն አማርኛ ᠮᠣᠩᠭᠣᠯ",
        # emoji
        "thumbs 👍🏻👍🏽👍🏿 and family 👨\u200d👩\u200d👧\u200d👦 and 🏳️\u200d🌈",
        "flags 🇺🇸🇧🇷🇪🇸🇯🇵 keycap 1\ufe0f\u20e3 #\ufe0f\u20e3",
        "emoji glued😀to😀words and 10/10🔥🔥🔥",
        "♥ ★ ☆ ✔ ✘ ⚔ ♪ ☺\ufe0f ☺\ufe0e",
        # long words
        long_word_150,
        w99,
        w100,
        w101,
        "short " + w100 + " " + w101 + " end",
        "é" * 60 + " " + "中" * 120,
        "😀" * 60 + " " + "a\u0301" * 60,
        # vocab pieces / wordpiece behaviour
        "the of and to in a is unaffable playing played player",
        "hello world HELLO WORLD Hello World",
        "1,000.50$ €100 £5 ¥500 $3.99 50% 3.14159 1e10 0x1F",
        "don't can't won't I'm it's y'all rock'n'roll",
        "e-mail state-of-the-art well-known co-op",
        "!!!???...,,,;;;:::---___***&&&@@@###",
        "<b>bold</b> [b]bbcode[/b] [url=https://example.com]link[/url] https://store.steampowered.com/app/123?x=1&y=2",
        # private use / unassigned / noncharacters
        "private use \ue000\uf8ff \U000f0000 \U0010fffd",
        "unassigned \u0378\u0379 \U0002fffe \U0003fffd \U000e0080 \U00050000 \U0010ffff",
        "tags \U000e0001\U000e0041 variation \ufe00 \U000e0100 noncharacter \ufdd0\uffff",
        # word length is counted in code points after normalization (not bytes / UTF-16 units)
        "ø" * 100,
        "ø" * 101,
        "д" * 100 + " " + "д" * 101,
        "e\u0301" * 100 + " " + "o\u0308" * 101,
        # Greek final sigma depends on context (JS toLowerCase / Python str.lower apply Final_Sigma)
        "ΑΣ'Β ΑΣ.Β ΑΣ-Β Σ. ΑΣ[SEP]Β ΑΣ\u00adΒ ΑΣ\u0301",
        # large
        long_text,
    ]
    return t


# --------------------------------------------------------------------------


def write_jsonl(path, records):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
            f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviews-out", default=os.path.join(REPO_ROOT, "tests", "fixtures", "tokenizer_reviews.jsonl"))
    ap.add_argument("--sample-out", default=os.path.join(REPO_ROOT, "tests", "fixtures", "reviews_2k.jsonl"))
    ap.add_argument("--csv", default=os.path.join(shared_data.SHARED, shared_data.STEAM))
    args = ap.parse_args()

    if args.csv == os.path.join(shared_data.SHARED, shared_data.STEAM):
        shared_data.need(shared_data.STEAM)
    rows = load_reviews(args.csv)
    print(f"loaded {len(rows)} reviews from {os.path.basename(args.csv)}", file=sys.stderr)

    # Coverage sample
    idx, n_special, stats = select_coverage(rows, random.Random(SEED_COVERAGE))
    records = [{"rid": rows[i][0], "lang": rows[i][1], "text": rows[i][3]} for i in idx]
    for n, text in enumerate(synthetic_texts(), 1):
        records.append({"rid": f"synthetic-{n}", "lang": "synthetic", "text": text})
    write_jsonl(args.reviews_out, records)
    print(f"{args.reviews_out}: {len(idx)} real ({n_special} by category) + "
          f"{len(records) - len(idx)} synthetic", file=sys.stderr)
    print("  category counts: " + ", ".join(f"{k}={v}" for k, v in stats.items()), file=sys.stderr)

    # Plain uniform sample of non-empty reviews
    nonempty = [i for i, r in enumerate(rows) if r[3].strip()]
    idx2 = sorted(random.Random(SEED_SAMPLE_2K).sample(nonempty, N_SAMPLE_2K))
    write_jsonl(args.sample_out, [
        {"rid": rows[i][0], "lang": rows[i][1], "app_id": int(rows[i][2]), "text": rows[i][3]} for i in idx2
    ])
    print(f"{args.sample_out}: {len(idx2)} reviews", file=sys.stderr)


if __name__ == "__main__":
    main()
