// Renders report.html in headless Chromium (Debian's, driven by
// playwright-core) and checks what a person would see: one section per game,
// theme rows whose numbers match report.json, bars whose pixel widths follow
// the counts, quotes that appear when a theme is opened, and no network.
// usage: node report_test.mjs REPORT.html REPORT.json SCREENSHOT.png
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [html, json, shot] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(json, 'utf8'));
let pass = 0, fail = 0;
const check = (ok, what) => { if (ok) pass++; else { fail++; console.error('FAIL: ' + what); } };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:')) external.push(r.url()); });
  await page.goto('file://' + path.resolve(html));
  check((await page.title()).includes('review themes'), 'page title');

  const apps = report.apps;
  const sections = page.locator('section.game');
  check(await sections.count() === apps.length, `${await sections.count()} game sections, report.json has ${apps.length}`);
  for (const app of apps) {
    const sec = page.locator(`section.game[data-app="${app.app_id}"]`);
    check(await sec.count() === 1, `section for app ${app.app_id}`);
    check((await sec.locator('h2').innerText()).includes(app.name), `heading shows ${app.name}`);
    const rows = sec.locator('tr.theme');
    check(await rows.count() === app.themes.length, `app ${app.app_id}: ${await rows.count()} theme rows vs ${app.themes.length}`);
    const barWidth = (await sec.locator('tr.theme .bar').first().boundingBox()).width;
    const top = Math.max(...app.themes.map((t) => t.reviews));
    for (let i = 0; i < app.themes.length; i++) {
      const t = app.themes[i], row = rows.nth(i);
      const cells = await row.locator('td').allInnerTexts();
      check(cells[0] === t.theme && cells[1] === String(t.reviews), `row ${app.app_id}/${t.theme}: ${cells.slice(0, 2)}`);
      check(Math.abs(parseFloat(cells[3]) - 100 * t.positive / t.reviews) <= 0.051 && cells[3].endsWith('%'),
        `like ratio ${app.app_id}/${t.theme}: ${cells[3]}`);
      // bars: green and red widths are the counts scaled to the game's largest theme
      const pos = (await row.locator('.pos').boundingBox()).width;
      const neg = (await row.locator('.neg').boundingBox()).width;
      check(Math.abs(pos - barWidth * t.positive / top) < 1.5 && Math.abs(neg - barWidth * t.negative / top) < 1.5,
        `bar ${app.app_id}/${t.theme}: ${pos.toFixed(1)}+${neg.toFixed(1)}px for ${t.positive}+${t.negative} of ${top}`);
    }
    // quotes are hidden until the theme is opened
    const detail = sec.locator('details.theme-detail').first();
    const quote = detail.locator('blockquote.quote').first();
    check(!(await quote.isVisible()), `quotes of ${app.app_id} start folded`);
    await detail.locator('summary').click();
    check(await quote.isVisible(), `a quote of ${app.app_id} shows after opening its theme`);
    check((await quote.innerText()).length > 0 && (await detail.locator('.sample').count()) > 0, `quote and samples of ${app.app_id}`);
  }
  check(external.length === 0, 'no network requests: ' + external.slice(0, 3).join(' '));
  await page.screenshot({ path: shot, fullPage: false });
} finally {
  await browser.close();
}
console.log(`browser: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
