// Renders lens video's OUT/report.html in headless Chromium (Debian's, driven
// by playwright-core) from file://, with every request that is not a local
// file aborted, and checks it against OUT/index.json and each video.json:
// no console errors and no failed requests; every thumbnail loaded; the
// overview's counts, failures and table; per video as many shot cards as
// shots, each card's swatches the shot's palette (in the computed colours),
// its transition and camera motion, a loudness polyline with one point per
// curve value, silence shaded, "No audio" for a video without audio; and
// file names shown as text, never as markup.
// usage: node video_report_test.mjs OUT SCREENSHOT.png [ESCAPED_NAME]
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [out, shot, escapedName] = process.argv.slice(2);
const index = JSON.parse(fs.readFileSync(path.join(out, 'index.json'), 'utf8'));
let pass = 0, fail = 0;
const check = (ok, what) => { if (ok) pass++; else { fail++; console.error('FAIL: ' + what); } };
const rgb = (hex) => `rgb(${parseInt(hex.slice(1, 3), 16)}, ${parseInt(hex.slice(3, 5), 16)}, ${parseInt(hex.slice(5, 7), 16)})`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(5000); // a missing element fails fast
  const errors = [], failed = [], external = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => failed.push(r.url()));
  await page.route('**/*', (r) => {
    if (r.request().url().startsWith('file:')) return r.continue();
    external.push(r.request().url());
    return r.abort();
  });
  await page.goto('file://' + path.resolve(out, 'report.html'), { waitUntil: 'load' });
  check((await page.title()).includes('video report'), 'page title');

  // the overview
  const videos = index.videos, bad = videos.filter((v) => v.status === 'failed');
  const ok = videos.filter((v) => v.status !== 'failed');
  const count = async (k) => Number(await page.locator(`b[data-count="${k}"]`).innerText());
  check(await count('videos') === videos.length, `videos count ${await count('videos')} vs ${videos.length}`);
  check(await count('failed') === bad.length, `failed count ${await count('failed')} vs ${bad.length}`);
  check(await count('analyzed') === ok.length, `analyzed count ${await count('analyzed')} vs ${ok.length}`);
  const failures = await page.locator('li.failure').allInnerTexts();
  check(failures.length === bad.length, `${failures.length} failures listed, ${bad.length} in index.json`);
  for (const v of bad) check(failures.some((t) => t.startsWith(v.input + ':')), `failure names ${v.input}: ${failures}`);
  const rows = page.locator('table.videos tr.video');
  check(await rows.count() === videos.length, `${await rows.count()} table rows vs ${videos.length}`);
  for (let i = 0; i < videos.length; i++) {
    const cells = await rows.nth(i).locator('td').allInnerTexts();
    check(cells[0] === videos[i].input, `row ${i} names ${videos[i].input}: ${cells[0]}`);
  }

  // thumbnails: all loaded, from relative paths
  const imgs = await page.locator('img').evaluateAll((a) => a.map((i) => ({ src: i.getAttribute('src'), w: i.naturalWidth })));
  check(imgs.every((i) => i.w > 0), 'every thumbnail loaded: ' + JSON.stringify(imgs.filter((i) => !i.w)));
  check(imgs.every((i) => /^[^/:]+\/shot_\d+\.jpg$/.test(i.src)), 'thumbnails by relative path');
  let shots = 0;

  for (const v of ok) {
    const j = JSON.parse(fs.readFileSync(path.join(out, v.video_json), 'utf8'));
    const sec = page.locator(`section.video[data-name="${v.name}"]`);
    check(await sec.count() === 1, `one section for ${v.name}`);
    check(await page.locator(`table.videos a[href="#v-${v.name}"]`).count() === 1, `table links to ${v.name}`);
    check((await sec.locator('h2').innerText()).startsWith(v.input), `heading of ${v.name} shows its file name`);
    const cards = sec.locator('.filmstrip .shot');
    const n = await cards.count();
    check(n === j.shots.length, `${v.name}: ${n} shot cards, video.json has ${j.shots.length}`);
    shots += j.shots.length;
    for (let i = 0; i < Math.min(n, j.shots.length); i++) {
      const s = j.shots[i], card = cards.nth(i);
      const text = await card.innerText();
      check(text.includes(`${s.start_tc}–${s.end_tc}`), `${v.name} shot ${i} timecodes: ${text}`);
      check(await card.locator(`.tr.${s.transition}`).count() === 1, `${v.name} shot ${i} transition ${s.transition}`);
      if (s.thumbnail) check(await card.locator('img').getAttribute('src') === `${v.name}/${s.thumbnail}`, `${v.name} shot ${i} thumbnail`);
      const c = j.color_analysis?.shots.find((x) => x.index === s.index);
      if (c) {
        const sw = await card.locator('.swatch').evaluateAll((a) => a.map((e) => ({ hex: e.dataset.hex, bg: getComputedStyle(e).backgroundColor })));
        const want = c.dominant_colors.map((d) => d.hex);
        check(JSON.stringify(sw.map((x) => x.hex)) === JSON.stringify(want), `${v.name} shot ${i} swatches ${sw.map((x) => x.hex)} vs ${want}`);
        check(sw.every((x, k) => x.bg === rgb(want[k])), `${v.name} shot ${i} swatch colours ${sw.map((x) => x.bg)}`);
      }
      const m = j.camera_analysis?.shots.find((x) => x.index === s.index);
      if (m) check(await card.locator(`.motion[data-motion="${m.motion}"]`).count() === 1, `${v.name} shot ${i} motion ${m.motion}`);
      // quality flags at the thresholds the page states
      const q = j.content_quality?.shots.find((x) => x.index === s.index);
      if (q) {
        const has = async (f) => await card.locator(`.flag[data-flag="${f}"]`).count() === 1;
        check(await has('noisy') === (q.noise !== null && q.noise > 4), `${v.name} shot ${i} noisy flag (noise ${q.noise})`);
        check(await has('blurry') === (q.sharpness !== null && q.sharpness < 50), `${v.name} shot ${i} blurry flag (sharpness ${q.sharpness})`);
        check(await has('blocky') === (q.blockiness !== null && q.blockiness > 1.5), `${v.name} shot ${i} blocky flag (${q.blockiness})`);
      }
    }
    // the video's palette
    if (j.color_analysis?.video?.samples) {
      const hex = await sec.locator('.palette.big .swatch').evaluateAll((a) => a.map((e) => e.dataset.hex));
      check(JSON.stringify(hex) === JSON.stringify(j.color_analysis.video.dominant_colors.map((d) => d.hex)), `${v.name} video palette`);
    }
    // audio: the curve, point for point, or "No audio"
    const a = j.audio_analysis;
    if (a && a.has_audio) {
      const pts = (await sec.locator('svg.loudness polyline.curve').getAttribute('points') || '').trim().split(/\s+/);
      check(pts.length === a.loudness_curve.lufs.length, `${v.name}: ${pts.length} curve points, video.json has ${a.loudness_curve.lufs.length}`);
      const sil = await sec.locator('svg.loudness rect.silence').count();
      check(sil === a.silence.segments.length, `${v.name}: ${sil} silence bands vs ${a.silence.segments.length}`);
      check((await sec.locator('.audio').innerText()).includes(`${a.integrated_lufs.toFixed(1)} LUFS`), `${v.name} integrated loudness`);
    } else if (!j.has_audio) {
      check(await sec.locator('.noaudio').count() === 1 && (await sec.locator('.noaudio').innerText()).startsWith('No audio'), `${v.name} says no audio`);
      check(await sec.locator('svg.loudness').count() === 0, `${v.name} draws no curve`);
    }
  }
  check(imgs.length === shots, `${imgs.length} thumbnails for ${shots} shots`);

  // a file name with markup in it is text: the page has no element it did not write
  if (escapedName) {
    check(await page.locator('script, iframe, object, embed').count() === 0, 'no injected element');
    const heads = await page.locator('section.video h2').allInnerTexts();
    check(heads.some((h) => h.includes(escapedName)), `escaped name shows as text: ${heads}`);
    check(await page.evaluate(() => window.pwned === undefined), 'no injected script ran');
  }
  check(errors.length === 0, 'console errors: ' + errors.slice(0, 3).join(' | '));
  check(failed.length === 0, 'failed requests: ' + failed.slice(0, 3).join(' '));
  check(external.length === 0, 'network requests: ' + external.slice(0, 3).join(' '));
  await page.screenshot({ path: shot, fullPage: true });
} finally {
  await browser.close();
}
console.log(`browser: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
