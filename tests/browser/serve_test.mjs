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
//      a second page without EventSource follows the same job by polling.
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
  const external = [], errors = [];
  const watch = (p, base) => {
    p.on('request', (r) => { if (!r.url().startsWith(base + '/')) external.push(r.url()); });
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

  step('state filter');
  await page.selectOption('#state-filter', 'running');
  check(await page.waitForFunction(() => !document.querySelector('#jobs-table tbody tr'), null, { timeout: 5000 })
    .then(() => true, () => false), 'no running jobs listed');
  await page.selectOption('#state-filter', 'succeeded');
  await page.waitForSelector(`#jobs-table tr[data-id="${id}"]`, { timeout: 5000 }).catch(() => {});
  check(await page.locator('#jobs-table tbody tr').count() === 1, 'the succeeded job listed');
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

  await p2.click('#btn-pause');
  check(await waitState(p2, 'paused', 30000), `paused (${await text(p2, '#job-state')})`);
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
  await p2.click('#btn-cancel');
  check(await waitState(p2, 'cancelled', 30000), `cancelled (${await text(p2, '#job-state')})`);
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
