// The --map part of report.html in headless Chromium: one map per game with
// as many points as map.csv has reviews of that game, points drawn in their
// theme's colour, and hovering a point shows that review's theme, sentiment
// and text. Also how long drawing takes.
// usage: node map_test.mjs REPORT.html MAP.csv SCREENSHOT.png
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [html, mapCsv, shot] = process.argv.slice(2);
let pass = 0, fail = 0;
const check = (ok, what) => { if (ok) pass++; else { fail++; console.error('FAIL: ' + what); } };

// map.csv: review_id,app_id,theme,sentiment,x,y (ids and themes here have no quotes)
const perApp = new Map();
for (const line of fs.readFileSync(mapCsv, 'utf8').trim().split('\n').slice(1)) {
  const f = line.split(',');
  const app = f[1];
  perApp.set(app, (perApp.get(app) || 0) + 1);
  check(Number.isFinite(+f[f.length - 1]) && Number.isFinite(+f[f.length - 2]), `finite coordinates: ${line}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = Date.now();
  await page.goto('file://' + path.resolve(html));
  const loadMs = Date.now() - t0;
  const maps = page.locator('figure.map');
  check(await maps.count() === perApp.size, `${await maps.count()} maps for ${perApp.size} games`);
  for (const [app, n] of perApp) {
    const fig = page.locator(`section.game[data-app="${app}"] figure.map`);
    check(await fig.count() === 1, `a map for app ${app}`);
    if (await fig.count() !== 1) continue;
    const data = JSON.parse(await fig.locator('.mapdata').textContent());
    check(data.points.length === Math.min(n, 100000), `app ${app}: ${data.points.length} points drawn, map.csv has ${n}`);
    // the canvas has ink of the themes' colours
    const inked = await fig.locator('canvas').evaluate((cv) => {
      const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
      return n;
    });
    check(inked > Math.min(n, 2000), `app ${app}: ${inked} painted pixels`);
    // hover the first point: the tooltip shows its text
    await fig.scrollIntoViewIfNeeded();
    const box = await fig.locator('canvas').boundingBox();
    // the page's view: the middle 99% of points (canvas data-view = x0,x1,y0,y1); a point inside it
    const [x0, x1, y0, y1] = (await fig.locator('canvas').getAttribute('data-view')).split(',').map(Number);
    const p = data.points.find((q) => q[0] > x0 && q[0] < x1 && q[1] > y0 && q[1] < y1) || data.points[0];
    const cx = 10 + (p[0] - x0) * (760 - 20) / ((x1 - x0) || 1), cy = 10 + (y1 - p[1]) * (460 - 20) / ((y1 - y0) || 1);
    await page.mouse.move(box.x + cx * box.width / 760, box.y + cy * box.height / 460);
    const tip = fig.locator('.maptip');
    check(await tip.isVisible(), `app ${app}: hovering a point shows a tooltip`);
    const text = await tip.innerText();
    // the nearest point may be another one drawn at the same place: it must be one of them
    const here = data.points.filter((q) => Math.abs(q[0] - p[0]) < 1e-3 && Math.abs(q[1] - p[1]) < 1e-3);
    const near = data.points.filter((q) => text.includes(q[4].trim().slice(0, 40)));
    check(near.length > 0, `app ${app}: tooltip "${text.slice(0, 80)}" shows a review of the map`);
    const head = await tip.locator('b').innerText();
    check(data.classes.some((t) => head.startsWith(t + ' · ')) && /· (positive|negative)$/.test(head),
          `app ${app}: tooltip heading "${head}" names a theme and a sentiment`);
    check(here.length >= 1, 'first point found');
  }
  check(errors.length === 0, `page errors: ${errors.join('; ')}`);
  if (shot) await page.screenshot({ path: shot, fullPage: false });
  console.log(`map: loaded and drawn in ${loadMs} ms`);
} finally {
  await browser.close();
}
console.log(`map in Chromium: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
