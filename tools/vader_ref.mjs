#!/usr/bin/env node
// Reference VADER scores for lens' C scorer (tests/test_vader.c), from an
// independent implementation: npm vader-sentiment 1.1.3, Comcast's JS port of
// vaderSentiment (pinned in tools/package.json).
//
// Usage: node tools/vader_ref.mjs [OUT.jsonl]     (default tests/fixtures/vader_ref.jsonl)
//        node tools/vader_ref.mjs --score IN.jsonl OUT.jsonl
//            scores the "text" of every line of IN (3.3.2 only: adds "ref")
// Needs node and, once, `(cd tools && npm ci --ignore-scripts --no-audit --no-fund)`
// (--ignore-scripts: onnxruntime-node's binary download is not needed here).
// Deterministic: two runs write byte-identical files.
//
// The port follows vaderSentiment as of 2018 (like NLTK's copy); lens
// implements vaderSentiment 3.3.2 (2020). So each text is scored twice, over
// the same lexicon (data/vader, the 3.3.2 files, injected into the port's
// source in place of its bundled older copy):
//   "port": the port as published;
//   "ref":  the port with the 3.3.2 changes below switched on. Each is a named
//           toggle, transcribed from vaderSentiment 3.3.2 (cited per toggle).
// With every toggle off, the patched port must score each text exactly like
// the published one (checked below, the run fails otherwise), so a difference
// between "port" and "ref" comes only from the named 3.3.2 rules. Where they
// differ, "note" names the toggles that change the row (each switched off
// alone; "combined" when no single one does).
//
// Every output line: {"src", "text", "ref": {neg, neu, pos, compound}, "port": {...}, "note"?}
// Inputs, all deterministic: the vaderSentiment README and demo sentences,
// edge cases, every 4th text of tests/fixtures/reviews_2k.jsonl, all of SST-2
// dev and every 10th line of the three UCI sets (from $LENS_SHARED, default
// <repo root>/../shared).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const shared = process.env.LENS_SHARED || path.join(root, '..', 'shared');
const scoreMode = process.argv[2] === '--score';
const outPath = (scoreMode ? process.argv[4] : process.argv[2]) || path.join(root, 'tests/fixtures/vader_ref.jsonl');
const lexDir = path.join(root, 'data/vader');

// ---- the lexicons, read as vaderSentiment 3.3.2's make_lex_dict / make_emoji_dict do
const PY_WS = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
    0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
    0x2028, 0x2029, 0x202f, 0x205f, 0x3000]); // Python's str.isspace()
const isWs = (ch) => PY_WS.has(ch.codePointAt(0));
function pyStrip(s, pred) {
    const cps = [...s];
    let a = 0, b = cps.length;
    while (a < b && pred(cps[a])) a++;
    while (b > a && pred(cps[b - 1])) b--;
    return cps.slice(a, b).join('');
}
function pySplit(s) { // str.split() with no argument
    const out = [];
    let cur = '';
    for (const ch of s) {
        if (isWs(ch)) { if (cur) out.push(cur); cur = ''; } else cur += ch;
    }
    if (cur) out.push(cur);
    return out;
}
function readLines(file) {
    return fs.readFileSync(file, 'utf8').replace(/\n+$/, '').split('\n');
}
const lexicon = {};
for (const line of readLines(path.join(lexDir, 'vader_lexicon.txt'))) {
    if (!line) continue;
    const [word, measure] = pyStrip(line, isWs).split('\t');
    lexicon[word] = Number(measure);
}
const emojis = new Map();
for (const line of readLines(path.join(lexDir, 'vader_emoji_utf8_lexicon.txt'))) {
    const [emoji, description] = pyStrip(line, isWs).split('\t');
    emojis.set(emoji, description);
}

// ---- the port, loaded from its ES source with our lexicon
const require = createRequire(import.meta.url);
const pkg = JSON.parse(fs.readFileSync(require.resolve('vader-sentiment/package.json'), 'utf8'));
assert.equal(pkg.version, '1.1.3', 'tools/package.json pins vader-sentiment 1.1.3');
const portSrc = fs.readFileSync(require.resolve('vader-sentiment/src/vaderSentiment.js'), 'utf8');
const NEEDLE = "require('./vader_lexicon.js').lexicon";
assert.equal(portSrc.split(NEEDLE).length, 2, 'the port loads its lexicon in one place');
globalThis.__lensVaderLexicon = lexicon;
async function loadPort(tag) { // a fresh module instance per tag
    const src = portSrc.replace(NEEDLE, 'globalThis.__lensVaderLexicon') + `\n// ${tag}\n`;
    return import('data:text/javascript;base64,' + Buffer.from(src).toString('base64'));
}
const port = await loadPort('published');
const P = await loadPort('patched');
const SIA = P.SentimentIntensityAnalyzer;
const orig = { ...Object.fromEntries(['polarity_scores', 'sentiment_valence', 'never_check', 'idioms_check',
    'but_check', 'score_valence'].map((k) => [k, SIA[k]])), words: P.SentiText.prototype.get_words_and_emoticons };

// ---- the 3.3.2 changes, each a toggle
const TOGGLES = [
    'emoji',         // polarity_scores: each emoji code point -> its description, then text.strip()
    'tokens',        // SentiText: text.split() + _strip_punc_if_word (stripped <= 2 chars -> keep token);
                     // the port drops 1-char tokens and strips with a punctuation-pair dictionary
    'isupper',       // Python str.isupper (Unicode); the port's is_upper_python is ASCII-only
    'boosters',      // BOOSTER_DICT gained considerable, enormous, exceptional, extreme, frackin, ...
    'no',            // sentiment_valence: "no" before a lexicon word is 0 and negates the next 3 words
    'negation_lower',// _negation_check and negated() compare lowercased words ("NOT good")
    'never_so',      // "never so/this X": * 1.25 (the port: * 1.5)
    'without_doubt', // "without (a) doubt": no negation
    'idioms',        // SPECIAL_CASES (3.3.2 set, lowercased), booster n-grams summed
    'but_lower',     // "but" in any case (the port: "but" or "BUT")
    'but_index',     // _but_check finds each value with list.index(): the first equal value is scaled
    'round',         // round(x, n): half-even on the exact double (the port: toFixed, ties up)
];
let on = new Set(TOGGLES);

const B_INCR = P.B_INCR, B_DECR = P.B_DECR, C_INCR = P.C_INCR, N_SCALAR = P.N_SCALAR;
const BOOST_332 = { ...P.BOOSTER_DICT };
for (const w of ['considerable', 'enormous', 'exceptional', 'extreme', 'frackin', 'fracking', 'fuckin', 'fuggin',
    'fugging', 'incredible', 'major', 'total', 'tremendous', 'utter']) BOOST_332[w] = B_INCR;
for (const w of ['marginal', 'occasional', 'scarce', 'slight']) BOOST_332[w] = B_DECR;
const SPECIAL_332 = { 'the shit': 3, 'the bomb': 3, 'bad ass': 1.5, 'badass': 1.5, 'bus stop': 0.0, 'yeah right': -2,
    'kiss of death': -1.5, 'to die for': 3, 'beating heart': 3.1, 'broken heart': -2.9 };
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const booster = () => (on.has('boosters') ? BOOST_332 : P.BOOSTER_DICT);

const RE_LOWER = /\p{Lowercase}/u, RE_UPPER = /\p{Uppercase}/u, RE_TITLE = /\p{Lt}/u;
function pyIsUpper(w) {
    let cased = false;
    for (const ch of w) {
        if (RE_LOWER.test(ch) || RE_TITLE.test(ch)) return false;
        if (RE_UPPER.test(ch)) cased = true;
    }
    return cased;
}
const isUpper = (w) => (on.has('isupper') ? pyIsUpper(w) : P.is_upper_python(w));

const PUNCT = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
P.SentiText.prototype.get_words_and_emoticons = function () {
    if (!on.has('tokens')) return orig.words.call(this);
    return pySplit(this.text).map((tok) => {
        const stripped = pyStrip(tok, (ch) => PUNCT.has(ch));
        return [...stripped].length <= 2 ? tok : stripped;
    });
};

function negatedWord(w) { // negated([w]); 3.3.2 lowercases first
    if (on.has('negation_lower')) w = w.toLowerCase();
    return P.negated([w]);
}

function scalarIncDec(word, valence, isCapDiff) {
    let scalar = 0.0;
    const lw = word.toLowerCase();
    const bd = booster();
    if (has(bd, lw)) {
        scalar = bd[lw];
        if (valence < 0) scalar *= -1;
        if (isCapDiff && isUpper(word)) scalar += valence > 0 ? C_INCR : -C_INCR;
    }
    return scalar;
}

SIA.polarity_scores = function (text) {
    if (on.has('emoji')) { // 3.3.2 polarity_scores, first lines
        let t = '', prevSpace = true;
        for (const ch of text) {
            if (emojis.has(ch)) {
                if (!prevSpace) t += ' ';
                t += emojis.get(ch);
                prevSpace = false;
            } else {
                t += ch;
                prevSpace = ch === ' ';
            }
        }
        text = pyStrip(t, isWs);
    }
    const st = new P.SentiText(text);
    const words = st.words_and_emoticons;
    if (on.has('isupper')) {
        const caps = words.filter(pyIsUpper).length;
        const diff = words.length - caps;
        st.is_cap_diff = diff > 0 && diff < words.length;
    }
    let sentiments = [];
    for (let i = 0; i < words.length; i++) {
        const item = words[i];
        if ((i < words.length - 1 && item.toLowerCase() === 'kind' && words[i + 1].toLowerCase() === 'of') ||
            has(booster(), item.toLowerCase())) {
            sentiments.push(0);
            continue;
        }
        sentiments = SIA.sentiment_valence(0, st, item, i, sentiments);
    }
    sentiments = SIA.but_check(words, sentiments);
    return SIA.score_valence(sentiments, text);
};

SIA.sentiment_valence = function (valence, st, item, i, sentiments) {
    const isCapDiff = st.is_cap_diff, w = st.words_and_emoticons, lw = item.toLowerCase();
    const lower = (j) => w[j].toLowerCase();
    if (has(lexicon, lw)) {
        valence = lexicon[lw];
        if (on.has('no')) { // 3.3.2: "no" as a negation of what follows vs "no" as its own lexicon item
            if (lw === 'no' && i !== w.length - 1 && has(lexicon, lower(i + 1))) valence = 0.0;
            if ((i > 0 && lower(i - 1) === 'no') || (i > 1 && lower(i - 2) === 'no') ||
                (i > 2 && lower(i - 3) === 'no' && ['or', 'nor'].includes(lower(i - 1)))) {
                valence = lexicon[lw] * N_SCALAR;
            }
        }
        if (isUpper(item) && isCapDiff) valence += valence > 0 ? C_INCR : -C_INCR;
        for (let start = 0; start < 3; start++) {
            if (i > start && !has(lexicon, lower(i - (start + 1)))) {
                let s = scalarIncDec(w[i - (start + 1)], valence, isCapDiff);
                if (start === 1 && s !== 0) s *= 0.95;
                else if (start === 2 && s !== 0) s *= 0.9;
                valence += s;
                valence = SIA.never_check(valence, w, start, i);
                if (start === 2) valence = SIA.idioms_check(valence, w, i);
            }
        }
        valence = SIA.least_check(valence, w, i);
    }
    sentiments.push(valence);
    return sentiments;
};

SIA.never_check = function (valence, words, start, i) { // 3.3.2: _negation_check
    const w = on.has('negation_lower') ? words.map((x) => x.toLowerCase()) : words;
    const never = on.has('never_so') ? 1.25 : 1.5;
    const doubt = on.has('without_doubt');
    if (start === 0) {
        if (negatedWord(w[i - 1])) valence *= N_SCALAR;
    }
    if (start === 1) {
        if (w[i - 2] === 'never' && (w[i - 1] === 'so' || w[i - 1] === 'this')) valence *= never;
        else if (doubt && w[i - 2] === 'without' && w[i - 1] === 'doubt') { /* unchanged */ }
        else if (negatedWord(w[i - 2])) valence *= N_SCALAR;
    }
    if (start === 2) {
        if ((w[i - 3] === 'never' && (w[i - 2] === 'so' || w[i - 2] === 'this')) || w[i - 1] === 'so' || w[i - 1] === 'this') {
            valence *= 1.25;
        } else if (doubt && w[i - 3] === 'without' && (w[i - 2] === 'doubt' || w[i - 1] === 'doubt')) { /* unchanged */ }
        else if (negatedWord(w[i - 3])) valence *= N_SCALAR;
    }
    return valence;
};

SIA.idioms_check = function (valence, words, i) {
    const idioms = on.has('idioms');
    const w = idioms ? words.map((x) => x.toLowerCase()) : words;
    const special = idioms ? SPECIAL_332 : P.SPECIAL_CASE_IDIOMS;
    const onezero = `${w[i - 1]} ${w[i]}`, twoonezero = `${w[i - 2]} ${w[i - 1]} ${w[i]}`;
    const twoone = `${w[i - 2]} ${w[i - 1]}`, threetwoone = `${w[i - 3]} ${w[i - 2]} ${w[i - 1]}`;
    const threetwo = `${w[i - 3]} ${w[i - 2]}`;
    for (const seq of [onezero, twoonezero, twoone, threetwoone, threetwo]) {
        if (has(special, seq)) { valence = special[seq]; break; }
    }
    if (w.length - 1 > i) {
        const zeroone = `${w[i]} ${w[i + 1]}`;
        if (has(special, zeroone)) valence = special[zeroone];
    }
    if (w.length - 1 > i + 1) {
        const zeroonetwo = `${w[i]} ${w[i + 1]} ${w[i + 2]}`;
        if (has(special, zeroonetwo)) valence = special[zeroonetwo];
    }
    const bd = booster();
    if (idioms) {
        for (const g of [threetwoone, threetwo, twoone]) if (has(bd, g)) valence += bd[g];
    } else if (has(bd, threetwo) || has(bd, twoone)) {
        valence += B_DECR;
    }
    return valence;
};

SIA.but_check = function (words, sentiments) {
    let bi;
    if (on.has('but_lower')) bi = words.findIndex((x) => x.toLowerCase() === 'but');
    else { bi = words.indexOf('but'); if (bi === -1) bi = words.indexOf('BUT'); }
    if (bi === -1) return sentiments;
    for (let k = 0; k < sentiments.length; k++) {
        const v = sentiments[k];
        // Python: `for sentiment in sentiments: si = sentiments.index(sentiment)`
        const si = on.has('but_index') ? sentiments.findIndex((x) => x === v) : k;
        if (si < bi) sentiments[si] = v * 0.5;
        else if (si > bi) sentiments[si] = v * 1.5;
    }
    return sentiments;
};

function pyRound(x, d) { // Python round(x, d): exact value, ties to even
    const ax = Math.abs(x);
    const exact = ax.toFixed(100); // exact for every value this can tie on
    const dot = exact.indexOf('.');
    const tail = exact.slice(dot + 1 + d);
    let r = Number(ax.toFixed(d));
    if (/^50*$/.test(tail)) { // a tie: toFixed went up; go to the even neighbour
        const kept = exact.slice(0, dot + 1 + d).replace('.', '');
        if (Number(kept[kept.length - 1]) % 2 === 0) r = Number(exact.slice(0, dot + 1 + d));
    }
    return x < 0 ? -r : r;
}

SIA.score_valence = function (sentiments, text) {
    const res = orig.score_valence.call(SIA, sentiments, text);
    if (!on.has('round') || !sentiments.length) return res;
    // recompute the unrounded values exactly as score_valence does, then round like Python
    let sum = 0;
    for (const s of sentiments) sum += s;
    const amp = SIA.punctuation_emphasis(sum, text);
    if (sum > 0) sum += amp; else if (sum < 0) sum -= amp;
    const compound = P.normalize(sum);
    let [pos, neg, neu] = SIA.sift_sentiment_scores(sentiments);
    if (pos > Math.abs(neg)) pos += amp; else if (pos < Math.abs(neg)) neg -= amp;
    const total = pos + Math.abs(neg) + neu;
    return { neg: pyRound(Math.abs(neg / total), 3), neu: pyRound(Math.abs(neu / total), 3),
             pos: pyRound(Math.abs(pos / total), 3), compound: pyRound(compound, 4) };
};

const score = (text, toggles) => { on = toggles; return SIA.polarity_scores(text); };
const same = (a, b) => a.neg === b.neg && a.neu === b.neu && a.pos === b.pos && a.compound === b.compound;

if (scoreMode) {
    const lines = readLines(process.argv[3]).filter((l) => l).map((l) => JSON.parse(l));
    fs.writeFileSync(outPath, lines.map((o) => JSON.stringify({ ...o, ref: score(o.text, new Set(TOGGLES)) })).join('\n') + '\n');
    process.exit(0);
}

// ---- inputs
const rows = [];
const add = (src, text) => rows.push({ src, text });
// vaderSentiment 3.3.2 README examples and the demo's tricky sentences and paragraph
for (const t of [
    'VADER is smart, handsome, and funny.', 'VADER is smart, handsome, and funny!',
    'VADER is very smart, handsome, and funny.', 'VADER is VERY SMART, handsome, and FUNNY.',
    'VADER is VERY SMART, handsome, and FUNNY!!!', 'VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!',
    'VADER is not smart, handsome, nor funny.', 'The book was good.', "At least it isn't a horrible book.",
    'The book was only kind of good.',
    'The plot was good, but the characters are uncompelling and the dialog is not great.', 'Today SUX!',
    "Today only kinda sux! But I'll get by, lol", 'Make sure you :) or :D today!',
    'Catch utf-8 emoji such as such as 💘 and 💋 and 😁', 'Catch utf-8 emoji such as 💘 and 💋 and 😁',
    'Not bad at all',
    'Sentiment analysis has never been good.', 'Sentiment analysis has never been this good!',
    'Most automated sentiment analysis tools are shit.', 'With VADER, sentiment analysis is the shit!',
    'Other sentiment analysis tools can be quite bad.', 'On the other hand, VADER is quite bad ass',
    'VADER is such a badass!', 'Without a doubt, excellent idea.',
    'Roger Dodger is one of the most compelling variations on this theme.',
    'Roger Dodger is at least compelling as a variation on the theme.',
    'Roger Dodger is one of the least compelling variations on this theme.', 'Not such a badass after all.',
    'Without a doubt, an excellent idea.',
    "It was one of the worst movies I've seen, despite good reviews.", 'Unbelievably bad acting!!',
    'Poor direction.', 'VERY poor production.', 'The movie was bad.', 'Very bad movie.', 'VERY BAD movie!',
    'balloons', 'cake', 'candles', 'happy birthday', 'friends', 'laughing', 'smiling', 'party',
    'riot', 'fire', 'fight', 'blood', 'mob', 'war', 'police', 'tear gas', 'Watch the rose wilt.',
]) add('readme', t);
// edge cases: each rule, casing, punctuation, whitespace and Unicode
for (const t of [
    '', ' ', '\t\n ', '.', '!', '!!!!!!', '?', '??', '???', '????', '?!?!', '... --- ,,, !!!', ':)', ':(', ':-P', ':Þ',
    'a', 'I', 'ok', 'OK', 'no', 'NO', 'No!', 'GOOD', 'GOOD GAME', 'GOOD game', 'good GAME', 'Great GAME!!!',
    'no good', 'no problems at all', 'no, not bad', 'There is no way this is good', 'no no no', 'no or bad',
    'no fun nor joy', 'it is NOT good', "It ISN'T good", "it isn’t good", 'this is not good at all', 'not bad',
    'never so good', 'never this good', 'Never So Good', 'it was never so good', 'never good',
    'without doubt a great game', 'without a doubt great', 'without any doubt, great', 'WITHOUT DOUBT great',
    'least good', 'the least good game', 'at least good', 'very least good', 'at the least it is fun',
    'kind of good', 'kind of bad', 'KIND OF good', 'it is kinda good', 'sort of fun', 'just enough fun',
    'the game is sort of kind of fun', 'it was kind', 'kind', 'a kind of magic',
    'this game is the shit', 'the bomb!', 'what a bad ass game', 'badass', 'yeah right, great game',
    'kiss of death for this game', 'a game to die for', 'my beating heart', 'a broken heart',
    'the bus stop was great', 'It cut the mustard', 'hand to mouth living',
    'good but bad', 'good BUT bad', 'good But bad', 'bad, but good', 'but', 'but but good', 'not good but not bad',
    'kind ok but fine', 'but fav abandoned', 'ok ok but ok ok', 'great great but great great',
    'very good', 'VERY good', 'very GOOD', 'extremely bad', 'EXTREMELY bad game', 'slightly good', 'the extreme fun',
    'incredible fun', 'total waste', 'uber cool', 'friggin awesome', 'fucking great', 'Frickin GREAT',
    'I love it', 'I LOVE it', 'I love it!', 'I love it!!', 'I love it!!!!', 'I love it!!!!!!!!', 'I love it??',
    'I hate it???', 'I hate it????', 'Is it good?', 'love?!?!', 'fun!?!?',
    'good.', '(good)', '"good"', "'good'", '--good--', 'good...', 'g!', 'ok!', 'ok...', ':D', 'xD', 'XD', '<3',
    '</3', 'lol', 'LOL', 'lmao!!', 'wtf?!', 'ur game sux', 'gr8 game', 'GG', 'gg ez', '10/10', '0/10', '2/10 would not buy',
    'Great game 👍', 'I ❤️ this game', '😀😀😀', '😂 so funny', '💩', '👍🏽 nice', '👨‍👩‍👧 family', '🇺🇸 flag',
    'good😀bad', '😀!', 'ON 🔛 UP 🆙', '🔥🔥🔥 fire', 'emoji at end 😡', '😡 angry', ' 😡 ', '😡😡',
    'Très bien, génial', 'ÇA VA good', 'ÉTÉ great', 'ÉÉ great', 'ABCé good', 'Straße good', 'ОЧЕНЬ хорошо',
    'ΟΔΟΣ good', 'ΣΟΦΟΣ good', 'ǅungla good', 'ⅣⅤ good', 'Ⓐ good', 'ª good', '日本語 good', 'İNANILMAZ GOOD',
    '\u212Aind of good', 'Kind\u00A0of good', 'good\u3000game', 'good\u200Bgame', 'good\u2028bad', 'good\u0085bad',
    'good\u001Fbad', 'good\uFEFFbad', 'good\u00A0!!!', 'GOOD\u00A0game', 'café sucks', 'naïve fun', 'FUN ÉTÉ fun',
    'good\tbad\ngreat\r\nawful', '   good   ', 'good,bad', 'good-bad', "don't like it", "DON'T LIKE IT", 'dont like it',
    "wouldn't recommend", "can't complain", 'cant complain', 'Nothing good', 'none good', 'nope, bad',
    'uh-uh good', 'not NOT good', 'NOT not good', 'The game is not really good', 'not very good', 'not so good',
    'not the best', 'not great, not terrible', 'hardly good', 'barely playable, but fun',
]) add('edge', t);
// real reviews: every 4th of the 2k sample
const reviews = readLines(path.join(root, 'tests/fixtures/reviews_2k.jsonl')).map((l) => JSON.parse(l).text);
reviews.forEach((t, i) => { if (i % 4 === 0) add('reviews_2k', t); });
// long texts: all 2k reviews glued until ~8k and ~40k characters
for (const target of [8000, 40000]) {
    let t = '';
    for (const r of reviews) { if (t.length >= target) break; t += (t ? ' ' : '') + r; }
    add('long', t);
}
add('long', 'good '.repeat(3000) + 'but ' + 'bad! '.repeat(3000));
add('long', 'x'.repeat(20000));
// SST-2 dev (label<TAB>sentence after a header) and every 10th UCI line (sentence<TAB>label)
readLines(path.join(shared, 'data/text/sst2_dev.tsv')).slice(1).forEach((l) => add('sst2_dev', l.slice(l.indexOf('\t') + 1)));
for (const set of ['amazon_cells', 'imdb', 'yelp']) {
    readLines(path.join(shared, `data/text/uci_${set}_labelled.txt`)).forEach((l, i) => {
        if (i % 10 === 0) add(`uci_${set}`, l.slice(0, l.lastIndexOf('\t')));
    });
}

// ---- score
const ALL = new Set(TOGGLES), NONE = new Set();
let differ = 0;
const out = [];
for (const row of rows) {
    const ref = score(row.text, ALL);
    const published = port.SentimentIntensityAnalyzer.polarity_scores(row.text);
    assert.ok(same(score(row.text, NONE), published), `toggles off != published port: ${JSON.stringify(row.text)}`);
    const o = { src: row.src, text: row.text, ref, port: published };
    if (!same(ref, published)) {
        differ++;
        const why = TOGGLES.filter((t) => !same(score(row.text, new Set(TOGGLES.filter((x) => x !== t))), ref));
        o.note = 'port differs from 3.3.2: ' + (why.length ? why.join(', ') : 'combined');
    }
    out.push(JSON.stringify(o));
}
fs.writeFileSync(outPath, out.join('\n') + '\n');
console.error(`vader_ref: ${rows.length} texts -> ${path.relative(process.cwd(), outPath)}; ` +
    `the published port agrees with 3.3.2 on ${rows.length - differ} (${(100 * (rows.length - differ) / rows.length).toFixed(1)}%)`);
