// End-to-end tests of lens serve's web UI in headless Chromium (Debian's,
// driven by playwright-core), as a person would use it:
//  (0) the server wants a token: the page says so, the token field fixes it
//      and is remembered across reloads;
//  (1) upload real reviews and themes.json through the form, watch the job
//      reach 100% and "succeeded", browse the results: every game, theme
//      rows whose counts equal report.csv from the API, bars that follow the
//      counts, the quotes of summaries.csv with how many reviews each stands
//      for, sample reviews, download links that work; the state filter;
//  (3) a bad themes.json shows the server's error message on the page;
//  (2) on a slow model: pause (stays paused), resume, cancel, delete, while
//      a second page without EventSource follows the same job by polling;
//  (4) maps drawn in the page itself: a job with "map" shows each game's
//      points (as many as map.csv has) with a tooltip per point, and a
//      project job shows its projection.csv as a map, not report.json;
//  (5) layout: the map checkbox sits on its label's line, the jobs table's
//      headers do not touch, the token field shows its whole placeholder,
//      the icon is inline (no /favicon.ico request), and at 420 px wide the
//      page does not scroll sideways.
// usage: node serve_test.mjs FAST_URL TOKEN SLOW_URL WORK_DIR THEMES.json
// WORK_DIR holds reviews.csv; screenshots are written there.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [FAST, TOKEN, SLOW, WORK, THEMES] = process.argv.slice(2);
const REVIEWS = path.join(WORK, 'reviews.csv');
let pass = 0, fail = 0;
const check = (ok, what) => { if (ok) pass++; else { fail++; console.error('FAIL: ' + what); } };
const step = (s) => console.log(`-- ${s}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function parseCSV(text) {
  const rows = [];
  let row = [], field = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') q = false; else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else if (c !== '\r') field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  const head = rows.shift();
  return rows.map((r) => Object.fromEntries(head.map((h, k) => [h, r[k]])));
}

async function api(base, p, opts = {}) {
  const headers = TOKEN && base === FAST ? { Authorization: `Bearer ${TOKEN}` } : {};
  const r = await fetch(base + p, { ...opts, headers: { ...headers, ...(opts.headers || {}) } });
  return { status: r.status, text: await r.text() };
}
const apiJSON = async (base, p, opts) => JSON.parse((await api(base, p, opts)).text);

const text = (page, sel) => page.locator(sel).innerText();
async function waitText(page, sel, want, timeout = 30000) {
  try {
    await page.waitForFunction(([s, w]) => {
      const e = document.querySelector(s);
      return e && e.textContent.trim() === w;
    }, [sel, want], { timeout, polling: 100 });
    return true;
  } catch (e) {
    return false;
  }
}
const waitState = (page, state, timeout) => waitText(page, '#job-state', state, timeout);
const disabled = (page, id) => page.locator(`#btn-${id}`).isDisabled();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const t0 = Date.now();
try {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const external = [], errors = [], asked = [];
  const watch = (p, base) => {
    p.on('request', (r) => { asked.push(r.url()); if (!r.url().startsWith(base + '/') && !r.url().startsWith('data:')) external.push(r.url()); });
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('dialog', (d) => d.accept());
  };
  watch(page, FAST);

  // ---------------------------------------------------------------- (0) token
  step('token');
  await page.goto(FAST + '/');
  check((await page.title()).startsWith('lens'), 'page title');
  await page.waitForSelector('#notice:not([hidden])', { timeout: 10000 }).catch(() => {});
  const notice = await page.locator('#notice').innerText().catch(() => '');
  check(notice.includes('bearer token') && notice.includes('API token'), `401 is explained: [${notice}]`);
  check(await page.locator('label[for=token]').count() === 1, 'token field has a label');
  await page.fill('#token', TOKEN);
  await page.press('#token', 'Enter');
  await page.waitForSelector('#notice[hidden]', { state: 'attached', timeout: 10000 }).catch(() => {});
  check(await page.locator('#notice').isHidden(), 'notice gone once the token is set');
  await page.reload();
  check(await page.inputValue('#token') === TOKEN, 'token kept in localStorage across reloads');
  await sleep(300);
  check(await page.locator('#notice').isHidden(), 'no 401 after reload');

  // ---------------------------------------------------------------- (1) a job
  step('upload and run a job');
  for (const id of ['files', 'themes', 'state-filter', 'opt-chunk', 'opt-language']) {
    check(await page.locator(`label[for="${id}"]`).count() === 1, `#${id} has a label`);
  }
  await page.setInputFiles('#files', REVIEWS);
  await page.setInputFiles('#themes', THEMES);
  // two themes per review: a game's total must still count each review once
  if (!(await page.locator('#opt-top-k').isVisible())) await page.click('details.options > summary');
  await page.fill('#opt-top-k', '2');
  await page.click('#submit');
  check(await waitState(page, 'succeeded', 60000), `job succeeded (state ${await text(page, '#job-state')})`);
  const id = (await text(page, '#job-id')).trim();
  check(/^[0-9a-f]{32}$/.test(id), `job id shown: ${id}`);
  const job = await apiJSON(FAST, `/v1/jobs/${id}`);
  check(job.state === 'succeeded', `API agrees: ${job.state}`);
  check(await text(page, '#job-percent') === '100%', `percent: ${await text(page, '#job-percent')}`);
  check(await page.locator('#job-progress').evaluate((e) => e.value) === 100, 'progress bar full');
  const processed = await text(page, '#job-processed');
  check(processed.includes('1,500 / 1,500'), `processed/total: ${processed}`);
  for (const ph of ['read', 'embed', 'assign', 'summarize', 'write', 'total']) {
    const v = await text(page, `#phases td[data-phase="${ph}"]`);
    check(/^\d+(\.\d+)? s$/.test(v), `phase ${ph}: ${v}`);
  }
  check(await disabled(page, 'pause') && await disabled(page, 'resume') && await disabled(page, 'cancel') &&
        !(await disabled(page, 'delete')), 'a finished job can only be deleted');
  const row = page.locator(`#jobs-table tr[data-id="${id}"]`);
  check(await row.count() === 1, 'job listed');
  check(await waitText(page, `#jobs-table tr[data-id="${id}"] .job-state`, 'succeeded', 5000), 'list shows succeeded');

  step('results browser');
  const report = await apiJSON(FAST, `/v1/jobs/${id}/results/report.json`);
  const inputRows = parseCSV(fs.readFileSync(REVIEWS, 'utf8'));
  const csv = parseCSV((await api(FAST, `/v1/jobs/${id}/results/report.csv`)).text);
  const summaries = parseCSV((await api(FAST, `/v1/jobs/${id}/results/summaries.csv`)).text);
  await page.waitForSelector('#games button', { timeout: 15000 });
  const games = page.locator('#games button');
  check(await games.count() === report.apps.length && report.apps.length === 5,
    `${await games.count()} games shown, report.json has ${report.apps.length}`);
  let samplesSeen = 0, quotesChecked = 0;
  for (const app of report.apps) {
    const btn = page.locator(`#games button[data-app="${app.app_id}"]`);
    check((await btn.innerText()).includes(app.name), `game button ${app.name}`);
    await btn.click();
    check(await btn.getAttribute('aria-pressed') === 'true', `${app.name} pressed`);
    check((await text(page, '#game-title')).includes(app.name), `title ${app.name}`);
    const rows_in = inputRows.filter((r) => r.app_id === app.app_id && r.language === 'english' && r.review.trim() !== '').length;
    check((await text(page, '#game-totals')).startsWith(`${rows_in.toLocaleString('en-US')} reviews`),
      `${app.name}: totals [${await text(page, '#game-totals')}], reviews.csv has ${rows_in} rows`);
    const want = csv.filter((r) => r.steam_appid === app.app_id);
    const rows = page.locator('#themes-table tbody tr');
    check(await rows.count() === want.length && want.length > 0,
      `${app.name}: ${await rows.count()} theme rows, report.csv has ${want.length}`);
    const barW = (await rows.first().locator('.bar').boundingBox()).width;
    const top = Math.max(...want.map((r) => Number(r['#Reviews'])));
    for (let i = 0; i < want.length; i++) {
      const r = want[i], tr = rows.nth(i);
      const got = [await tr.locator('th').innerText(), await tr.locator('td.reviews').innerText(),
                   await tr.locator('td.positive').innerText(), await tr.locator('td.negative').innerText()];
      const exp = [r.Theme, r['#Reviews'], r.Positive, r.Negative];
      check(JSON.stringify(got) === JSON.stringify(exp), `${app.name} row ${i}: ${got} vs report.csv ${exp}`);
      const like = parseFloat(await tr.locator('td.like').innerText());
      check(Math.abs(like - 100 * Number(r.LikeRatio)) <= 0.051, `${app.name}/${r.Theme} like ratio ${like}`);
      const sim = await tr.locator('td.sim').innerText();
      check(r.MeanSimilarity ? Math.abs(parseFloat(sim) - Number(r.MeanSimilarity)) < 6e-4 : sim === '—',
        `${app.name}/${r.Theme} mean similarity ${sim} vs ${r.MeanSimilarity}`);
      const pos = (await tr.locator('.bar .pos').boundingBox())?.width ?? 0;
      const neg = (await tr.locator('.bar .neg').boundingBox())?.width ?? 0;
      check(Math.abs(pos - barW * r.Positive / top) < 1.5 && Math.abs(neg - barW * r.Negative / top) < 1.5,
        `bar ${app.name}/${r.Theme}: ${pos.toFixed(1)}+${neg.toFixed(1)}px for ${r.Positive}+${r.Negative} of ${top}`);
    }
    // the opened theme and one more: quotes as in summaries.csv
    const themesToOpen = [await page.locator('#theme-detail').getAttribute('data-theme'), want[want.length - 1].Theme];
    for (const theme of themesToOpen) {
      if (theme !== themesToOpen[0]) await page.locator(`#themes-table tr[data-theme="${theme}"] .theme-btn`).click();
      check(await page.locator('#theme-detail').getAttribute('data-theme') === theme, `theme ${theme} opened`);
      for (const s of ['positive', 'negative']) {
        const exp = summaries.filter((q) => q.steam_appid === app.app_id && q.Theme === theme && q.sentiment === s);
        const shown = page.locator(`#quotes-${s} blockquote.quote`);
        const n = await shown.count();
        check(n === exp.length, `${app.name}/${theme} ${s}: ${n} quotes, summaries.csv has ${exp.length}`);
        for (let k = 0; k < Math.min(n, exp.length); k++) {
          const q = shown.nth(k);
          const qt = await q.locator('p').textContent(), ft = await q.locator('footer').innerText();
          check(qt === exp[k].quote, `quote ${k} of ${app.name}/${theme}/${s}: [${qt}] vs [${exp[k].quote}]`);
          const nrev = Number(exp[k].reviews);
          check(ft.includes(`stands for ${nrev.toLocaleString('en-US')} review${nrev === 1 ? '' : 's'}`),
            `footer of quote ${k}: ${ft}`);
          check(await q.isVisible(), 'quote visible');
          quotesChecked++;
        }
      }
      samplesSeen += await page.locator('#samples .sample').count();
    }
  }
  check(quotesChecked >= 10, `${quotesChecked} quotes checked`);
  check(samplesSeen > 0, `${samplesSeen} sample reviews shown`);

  step('downloads');
  const links = page.locator('#downloads a');
  const names = await links.allInnerTexts();
  check(JSON.stringify(names.slice().sort()) === JSON.stringify(job.results.slice().sort()) && names.length === 5,
    `download links: ${names}`);
  for (let i = 0; i < await links.count(); i++) {
    const href = await links.nth(i).getAttribute('href');
    const r = await page.request.get(FAST + href);
    check(r.status() === 200 && (await r.body()).length > 0, `${href} downloads (${r.status()})`);
  }
  const [dl] = await Promise.all([page.waitForEvent('download'),
    page.locator('#downloads a', { hasText: 'report.csv' }).click()]);
  const saved = path.join(WORK, 'downloaded-report.csv');
  await dl.saveAs(saved);
  check(fs.readFileSync(saved, 'utf8') === (await api(FAST, `/v1/jobs/${id}/results/report.csv`)).text,
    'clicking report.csv downloads it');
  await page.screenshot({ path: path.join(WORK, 'ui-results.png'), fullPage: true });

  // ---------------------------------------------------------------- (4) maps
  step('a map in the page');
  await page.setInputFiles('#files', REVIEWS);
  await page.setInputFiles('#themes', THEMES);
  if (!(await page.locator('#opt-map').isVisible())) await page.click('details.options > summary');
  await page.check('#opt-map');
  await page.click('#submit');
  await page.waitForFunction((old) => document.getElementById('job-id').textContent.trim() !== old, id, { timeout: 15000 })
    .catch(() => {});
  check(await waitState(page, 'succeeded', 60000), `map job succeeded (${await text(page, '#job-state')})`);
  const mid = (await text(page, '#job-id')).trim();
  const mapCsv = parseCSV((await api(FAST, `/v1/jobs/${mid}/results/map.csv`)).text);
  check(mapCsv.length > 1000, `map.csv has ${mapCsv.length} rows`);
  await page.waitForSelector('#games button', { timeout: 15000 });
  check(await page.locator('iframe').count() === 0, 'no iframe: the map is drawn in the page');
  for (const app of report.apps.slice(0, 2)) {
    await page.click(`#games button[data-app="${app.app_id}"]`);
    const fig = page.locator('#map-fig');
    check(await page.locator('#map-panel').isVisible(), `${app.name}: map shown`);
    const want = mapCsv.filter((r) => r.app_id === app.app_id).length;
    const caption = await text(page, '#map-caption');
    check(caption.startsWith(`${want.toLocaleString('en-US')} reviews`), `${app.name}: caption [${caption}] for ${want} points`);
    const inked = await fig.locator('canvas').evaluate((cv) => {
      const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
      return n;
    });
    check(inked > Math.min(want, 200), `${app.name}: ${inked} painted pixels for ${want} points`);
    const legend = await fig.locator('.legend span').allInnerTexts();
    check(legend.length === app.themes.length && legend.includes('unassigned') === app.themes.some((t) => t.theme === 'unassigned'),
      `${app.name}: legend ${legend.length} entries`);
    // hover every 40th pixel along the middle line until a tooltip shows
    await fig.scrollIntoViewIfNeeded();
    const box = await fig.locator('canvas').boundingBox();
    let tipText = '';
    for (let y = box.y + 10; y < box.y + box.height - 10 && !tipText; y += 6) {
      for (let x = box.x + 10; x < box.x + box.width - 10 && !tipText; x += 6) {
        await page.mouse.move(x, y);
        if (await fig.locator('.maptip').isVisible()) tipText = await fig.locator('.maptip b').innerText();
      }
    }
    check(/ · (positive|negative)$/.test(tipText) && app.themes.some((t) => tipText.startsWith(t.theme + ' · ')),
      `${app.name}: hovering a point names its theme and sentiment: [${tipText}]`);
  }
  await page.screenshot({ path: path.join(WORK, 'ui-map.png'), fullPage: true });

  step('a project job');
  const npy = path.join(WORK, 'points.npy');
  const form = new FormData();
  form.append('kind', 'project');
  form.append('files', new Blob([fs.readFileSync(npy)]), 'points.npy');
  form.append('options', JSON.stringify({ neighbors: 10 }));
  const pj = JSON.parse((await api(FAST, '/v1/jobs', { method: 'POST', body: form })).text);
  check(/^[0-9a-f]{32}$/.test(pj.id || ''), `project job created: ${JSON.stringify(pj)}`);
  await page.goto(`${FAST}/#job=${pj.id}`);
  check(await waitState(page, 'succeeded', 60000), `project job succeeded (${await text(page, '#job-state')})`);
  await page.waitForSelector('#map-panel:not([hidden])', { timeout: 15000 }).catch(() => {});
  const proj = parseCSV((await api(FAST, `/v1/jobs/${pj.id}/results/projection.csv`)).text);
  const psum = await text(page, '#results-summary');
  check(psum.startsWith(`${proj.length.toLocaleString('en-US')} points projected`), `project summary: [${psum}]`);
  check(!psum.includes('report.json') && !(await page.content()).includes('Could not load'), 'no report.json asked for');
  check(await page.locator('#map-panel').isVisible() && (await text(page, '#map-caption')).includes('points'),
    'projection drawn as a map');
  const filesShown = await page.locator('#job-meta dt:text-is("Files") + dd').innerText();
  check(filesShown === 'points.npy', `project job's file by name: [${filesShown}]`);
  check(await text(page, '#job-processed') === `${proj.length.toLocaleString('en-US')} / ${proj.length.toLocaleString('en-US')} points`,
    `project progress in points: ${await text(page, '#job-processed')}`);
  await page.screenshot({ path: path.join(WORK, 'ui-project.png'), fullPage: true });

  // ---------------------------------------------------------------- (5) layout
  step('layout');
  if (!(await page.locator('#opt-map').isVisible())) await page.click('details.options > summary');
  const cb = await page.locator('#opt-map').boundingBox(), lb = await page.locator('label[for="opt-map"]').boundingBox();
  check(Math.abs((cb.y + cb.height / 2) - (lb.y + lb.height / 2)) < 4 && lb.x > cb.x + cb.width - 1,
    `map checkbox on its label's line: box ${JSON.stringify(cb)} label ${JSON.stringify(lb)}`);
  const gaps = await page.evaluate(() => {
    const ths = [...document.querySelectorAll('#jobs-table thead th')];
    const r = ths.map((th) => { const g = document.createRange(); g.selectNodeContents(th); return g.getBoundingClientRect(); });
    return r.slice(1).map((b, i) => b.left - r[i].right);
  });
  check(gaps.every((g) => g >= 6), `jobs table headers apart: gaps ${gaps.map((g) => g.toFixed(1))} px`);
  const fits = await page.evaluate(() => {
    const i = document.getElementById('token'), cs = getComputedStyle(i);
    const c = document.createElement('canvas').getContext('2d');
    c.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const room = i.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    return [c.measureText(i.placeholder).width, room];
  });
  check(fits[0] <= fits[1], `token placeholder ${fits[0].toFixed(0)} px fits in ${fits[1].toFixed(0)} px`);
  check((await page.locator('link[rel="icon"]').getAttribute('href') || '').startsWith('data:'), 'inline icon');
  check(!asked.some((u) => u.includes('favicon')), `no favicon request: ${asked.filter((u) => u.includes('favicon'))}`);
  const narrow = await ctx.newPage();
  watch(narrow, FAST);
  await narrow.setViewportSize({ width: 420, height: 900 });
  for (const j of [mid, pj.id]) {
    await narrow.goto(`${FAST}/#job=${j}`);
    await waitState(narrow, 'succeeded', 15000);
    await narrow.waitForSelector('#map-panel:not([hidden])', { timeout: 15000 }).catch(() => {});
    const w = await narrow.evaluate(() => document.documentElement.scrollWidth);
    check(w <= 420, `at 420 px the page is ${w} px wide (job ${j.slice(0, 8)})`);
  }
  await narrow.screenshot({ path: path.join(WORK, 'ui-420.png'), fullPage: true });
  await narrow.close();

  step('state filter');
  await page.selectOption('#state-filter', 'running');
  check(await page.waitForFunction(() => !document.querySelector('#jobs-table tbody tr'), null, { timeout: 5000 })
    .then(() => true, () => false), 'no running jobs listed');
  await page.selectOption('#state-filter', 'succeeded');
  await page.waitForSelector(`#jobs-table tr[data-id="${id}"]`, { timeout: 5000 }).catch(() => {});
  const succeeded = (await apiJSON(FAST, '/v1/jobs?state=succeeded')).total;
  check(succeeded === 3 && await page.locator('#jobs-table tbody tr').count() === succeeded,
    `the ${succeeded} succeeded jobs listed`);
  await page.selectOption('#state-filter', '');

  // ---------------------------------------------------------------- (3) errors
  step('bad themes.json');
  const bad = path.join(WORK, 'bad_themes.json');
  fs.writeFileSync(bad, '{"391540": ["not", "an object"]}\n');
  const before = (await apiJSON(FAST, '/v1/jobs')).total;
  await page.setInputFiles('#files', REVIEWS);
  await page.setInputFiles('#themes', bad);
  await page.click('#submit');
  await page.waitForSelector('#form-error:not([hidden])', { timeout: 15000 }).catch(() => {});
  const ferr = await page.locator('#form-error').innerText().catch(() => '');
  check(ferr.includes("an app's value must be an object of themes"), `server's error shown: [${ferr}]`);
  check(await page.locator('#form-error').getAttribute('role') === 'alert', 'error is an alert');
  check((await apiJSON(FAST, '/v1/jobs')).total === before, 'no job created');
  await page.screenshot({ path: path.join(WORK, 'ui-error.png') });
  // and the form is usable again
  check(!(await page.locator('#submit').isDisabled()), 'submit enabled again');

  // ---------------------------------------------------------------- (2) control
  step('pause / resume / cancel on a slow model');
  const p2 = await ctx.newPage();
  watch(p2, SLOW);
  await p2.goto(SLOW + '/');
  const second = path.join(WORK, 'reviews_b.csv');
  fs.copyFileSync(REVIEWS, second);
  await p2.setInputFiles('#files', [REVIEWS, second]);
  await p2.setInputFiles('#themes', THEMES);
  await p2.click('details.options > summary');
  await p2.fill('#opt-chunk', '128');
  await p2.click('#submit');
  check(await waitState(p2, 'running', 30000), `slow job running (${await text(p2, '#job-state')})`);
  const sid = (await text(p2, '#job-id')).trim();
  const sjob = await apiJSON(SLOW, `/v1/jobs/${sid}`);
  check(sjob.params.chunk === 128 && sjob.params.inputs.length === 2, `params: ${JSON.stringify(sjob.params)}`);
  // progress arrives over server-sent events
  const moved = await p2.waitForFunction(() => parseFloat(document.getElementById('job-percent').textContent) > 0,
    null, { timeout: 30000, polling: 100 }).then(() => true, () => false);
  check(moved, `progress moves: ${await text(p2, '#job-percent')}`);
  check((await text(p2, '#job-live')).includes('server-sent events'), `live via SSE: ${await text(p2, '#job-live')}`);
  check(/^[\d,]+ \/ [\d,]+ reviews$/.test(await text(p2, '#job-processed')), `processed: ${await text(p2, '#job-processed')}`);
  check((await text(p2, '#job-eta')).includes('ETA'), `ETA shown: ${await text(p2, '#job-eta')}`);
  check(/chunk \d+ of \d+/.test(await text(p2, '#job-chunk')), `chunk: ${await text(p2, '#job-chunk')}`);
  check(!(await disabled(p2, 'pause')) && await disabled(p2, 'resume') && !(await disabled(p2, 'cancel')),
    'running: pause and cancel enabled, resume not');
  await p2.screenshot({ path: path.join(WORK, 'ui-running.png') });

  // a page without EventSource follows the same job by polling
  const p3 = await ctx.newPage();
  watch(p3, SLOW);
  await p3.addInitScript(() => { delete window.EventSource; });
  await p3.goto(`${SLOW}/#job=${sid}`);
  check(await waitState(p3, 'running', 10000), 'polling page opened the job from the URL');
  check(await waitText(p3, '#job-live', 'polling', 5000), `polling page: ${await text(p3, '#job-live')}`);

  // every state the badge shows, in order: a pause or cancel is shown as
  // pausing/cancelling (pause disabled, cancel still possible) until the
  // job reaches its next check point
  await p2.evaluate(() => {
    window.seen = [];
    const b = document.getElementById('job-state');
    new MutationObserver(() => {
      const eta = document.getElementById('job-eta').textContent;
      const dis = ['pause', 'resume', 'cancel'].map((a) => document.getElementById(`btn-${a}`).disabled);
      window.seen.push({ state: b.textContent, eta, dis });
    }).observe(b, { childList: true, characterData: true, subtree: true });
  });
  await p2.click('#btn-pause');
  check(await waitState(p2, 'paused', 30000), `paused (${await text(p2, '#job-state')})`);
  const seenPause = await p2.evaluate(() => window.seen);
  const pausing = seenPause.find((x) => x.state === 'pausing');
  check(pausing && pausing.eta.includes('stopping') && pausing.dis[0] && pausing.dis[1],
    `pausing shown on the way to paused: ${JSON.stringify(seenPause)}`);
  const atPause = await apiJSON(SLOW, `/v1/jobs/${sid}`);
  await sleep(2500);
  const later = await apiJSON(SLOW, `/v1/jobs/${sid}`);
  check(await text(p2, '#job-state') === 'paused' && later.state === 'paused', 'stays paused');
  check(later.progress.processed === atPause.progress.processed, 'no progress while paused');
  check(await disabled(p2, 'pause') && !(await disabled(p2, 'resume')) && !(await disabled(p2, 'cancel')),
    'paused: resume and cancel enabled, pause not');
  check(await text(p2, '#job-eta') === '', 'no ETA while paused');
  check(await waitState(p3, 'paused', 5000), 'polling page sees paused');
  check(await waitText(p2, `#jobs-table tr[data-id="${sid}"] .job-state`, 'paused', 5000), 'list shows paused');

  await p2.click('#btn-resume');
  check(await waitState(p2, 'running', 30000), `running again (${await text(p2, '#job-state')})`);
  check(await waitState(p3, 'running', 5000), 'polling page sees running');
  await p2.evaluate(() => { window.seen = []; });
  await p2.click('#btn-cancel');
  check(await waitState(p2, 'cancelled', 30000), `cancelled (${await text(p2, '#job-state')})`);
  const seenCancel = await p2.evaluate(() => window.seen.map((x) => x.state));
  check(seenCancel.includes('cancelling') && seenCancel.indexOf('cancelling') < seenCancel.indexOf('cancelled'),
    `cancelling shown on the way to cancelled: ${seenCancel}`);
  check((await apiJSON(SLOW, `/v1/jobs/${sid}`)).state === 'cancelled', 'API says cancelled');
  check(await disabled(p2, 'pause') && await disabled(p2, 'resume') && await disabled(p2, 'cancel') &&
        !(await disabled(p2, 'delete')), 'cancelled: only delete enabled');
  check(await p2.locator('#results').isHidden(), 'no results for a cancelled job');
  check(await waitState(p3, 'cancelled', 5000), 'polling page sees cancelled');
  await p2.screenshot({ path: path.join(WORK, 'ui-cancelled.png') });

  await p2.click('#btn-delete');
  await p2.waitForSelector('#job', { state: 'hidden', timeout: 10000 }).catch(() => {});
  check(await p2.locator('#job').isHidden(), 'deleted job closed');
  check((await api(SLOW, `/v1/jobs/${sid}`)).status === 404, 'deleted on the server');
  check(await p2.waitForFunction((i) => !document.querySelector(`#jobs-table tr[data-id="${i}"]`), sid,
    { timeout: 5000 }).then(() => true, () => false), 'deleted job gone from the list');

  check(external.length === 0, 'no requests beyond the lens server: ' + external.slice(0, 3).join(' '));
  check(errors.length === 0, 'no page errors: ' + errors.slice(0, 3).join(' | '));
} catch (e) {
  fail++;
  console.error('FAIL: ' + (e.stack || e));
} finally {
  await browser.close();
}
console.log(`ui: ${pass} passed, ${fail} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
process.exit(fail ? 1 : 0);
