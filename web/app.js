// lens web UI: start analyses by upload, follow jobs live (Server-Sent
// Events, polling as a fallback), control them, and browse their results.
// Plain browser JavaScript, no libraries; it talks only to the lens server
// that served it (routes in /openapi.json).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = 'lens.token';
  const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
  const PHASES = ['read', 'embed', 'assign', 'summarize', 'write'];
  const LIST_EVERY_MS = 3000, POLL_EVERY_MS = 1000;

  let token = '';
  try { token = localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { /* storage off */ }

  // the selected job: {id, job, es, poll, resultsLoaded, results}
  let current = null;

  // ------------------------------------------------------------ helpers

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  const basename = (p) => String(p || '').split('/').pop();
  // the input files of a job: analyze jobs have "inputs", project jobs "input"
  const jobFiles = (params) => (params && (params.inputs || (params.input ? [params.input] : []))) || [];
  const MAP_POINTS = 100000; // at most this many points drawn per map, as report.html
  const short = (id) => String(id).slice(0, 8);
  const num = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '—');

  function fmtPct(p) {
    if (typeof p !== 'number' || !isFinite(p)) return '0%';
    return Number.isInteger(p) ? `${p}%` : `${p.toFixed(1)}%`;
  }

  function fmtDuration(s) {
    if (typeof s !== 'number' || !isFinite(s) || s < 0) return '—';
    if (s < 10) return `${s.toFixed(1)} s`;
    if (s < 60) return `${Math.round(s)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  }

  const fmtSeconds = (s) => (typeof s === 'number' ? (s >= 100 ? `${s.toFixed(0)} s` : `${s.toFixed(2)} s`) : '—');
  const fmtTime = (t) => (typeof t === 'number' && t > 0 ? new Date(t * 1000).toLocaleString() : '—');
  // compact, for the jobs list: the time today, else the date
  function fmtWhen(t) {
    if (typeof t !== 'number' || t <= 0) return '—';
    const d = new Date(t * 1000), now = new Date();
    return d.toDateString() === now.toDateString()
      ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleDateString();
  }

  // RFC 4180: quoted fields, "" escapes, newlines inside quotes, CRLF
  function parseCSV(text) {
    const rows = [];
    let row = [], field = '', q = false, i = 0;
    const n = text.length;
    while (i < n) {
      const c = text[i];
      if (q) {
        if (c === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          q = false; i++; continue;
        }
        const j = text.indexOf('"', i);
        const end = j < 0 ? n : j;
        field += text.slice(i, end);
        i = end;
        continue;
      }
      if (c === '"') { q = true; i++; continue; }
      if (c === ',') { row.push(field); field = ''; i++; continue; }
      if (c === '\n' || c === '\r') {
        row.push(field); rows.push(row); row = []; field = '';
        i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
        continue;
      }
      field += c; i++;
    }
    if (field !== '' || row.length) { row.push(field); rows.push(row); }
    if (!rows.length) return [];
    const head = rows[0];
    return rows.slice(1).filter((r) => r.length > 1 || r[0] !== '').map((r) => {
      const o = {};
      head.forEach((h, k) => { o[h] = r[k] === undefined ? '' : r[k]; });
      return o;
    });
  }

  // ------------------------------------------------------------ the API

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function apiError(status, text) {
    let msg = '';
    try { msg = JSON.parse(text).error.message; } catch (e) { /* not our JSON */ }
    if (!msg) msg = status ? `HTTP ${status}` : 'the server did not answer';
    if (status === 401) msg += ' — enter the server\'s token in "API token" above.';
    return new ApiError(status, msg);
  }

  function authHeaders() {
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  function withToken(url) {
    return token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url;
  }

  async function request(method, path, asText) {
    let r;
    try {
      r = await fetch(path, { method, headers: authHeaders(), cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, `cannot reach the server (${e.message})`);
    }
    const text = await r.text();
    if (!r.ok) throw apiError(r.status, text);
    if (asText) return text;
    try { return JSON.parse(text); } catch (e) { throw new ApiError(r.status, `bad JSON from ${path}`); }
  }
  const api = (method, path) => request(method, path, false);
  const apiText = (path) => request('GET', path, true);

  // multipart upload with progress (fetch cannot report upload progress)
  function upload(fd, onProgress) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open('POST', '/v1/jobs');
      for (const [k, v] of Object.entries(authHeaders())) x.setRequestHeader(k, v);
      x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(100 * e.loaded / e.total); };
      x.onload = () => {
        if (x.status >= 200 && x.status < 300) {
          try { resolve(JSON.parse(x.responseText)); } catch (e) { reject(new ApiError(x.status, 'bad JSON from /v1/jobs')); }
        } else {
          reject(apiError(x.status, x.responseText));
        }
      };
      x.onerror = () => reject(new ApiError(0, 'the upload failed: the server closed the connection'));
      x.send(fd);
    });
  }

  function notice(msg) {
    const n = $('notice');
    n.textContent = msg || '';
    n.hidden = !msg;
  }

  // ------------------------------------------------------------ token

  function initToken() {
    const input = $('token');
    input.value = token;
    const save = () => {
      const v = input.value.trim();
      if (v === token) return;
      token = v;
      try {
        if (token) localStorage.setItem(TOKEN_KEY, token);
        else localStorage.removeItem(TOKEN_KEY);
      } catch (e) { /* storage off */ }
      notice('');
      loadJobs();
      if (current) { stopLive(); refreshJob().then(startLive); }
    };
    input.addEventListener('change', save);
    $('token-form').addEventListener('submit', (e) => { e.preventDefault(); save(); });
  }

  // ------------------------------------------------------------ new job

  function readOptions() {
    const o = {};
    const lang = $('opt-language').value.trim();
    if (lang) o.language = lang;
    const ms = $('opt-min-similarity').value.trim();
    if (ms) o.min_similarity = ms === 'auto' || ms === 'off' || !isFinite(Number(ms)) ? ms : Number(ms);
    for (const [id, key] of [['opt-top-k', 'top_k'], ['opt-quotes', 'quotes'], ['opt-chunk', 'chunk']]) {
      const v = $(id).value.trim();
      if (v) o[key] = Number(v);
    }
    const s = $('opt-sentiment').value;
    if (s) o.sentiment = s;
    if ($('opt-map').checked) o.map = true;
    const extra = $('opt-json').value.trim();
    if (extra) {
      let x;
      try { x = JSON.parse(extra); } catch (e) { throw new Error(`More options: not JSON (${e.message})`); }
      if (!x || typeof x !== 'object' || Array.isArray(x)) throw new Error('More options: must be a JSON object');
      Object.assign(o, x);
    }
    return Object.keys(o).length ? o : null;
  }

  function initForm() {
    const form = $('job-form');
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const err = $('form-error');
      err.hidden = true;
      err.textContent = '';
      const files = $('files').files, themes = $('themes').files;
      const fail = (msg) => { err.textContent = msg; err.hidden = false; };
      if (!files.length) return fail('Choose one or more review files.');
      if (!themes.length) return fail('Choose a themes.json file.');
      let options;
      try { options = readOptions(); } catch (x) { return fail(x.message); }
      const fd = new FormData();
      for (const f of files) fd.append('files', f, f.name);
      fd.append('themes', themes[0], 'themes.json');
      if (options) fd.append('options', JSON.stringify(options));
      const btn = $('submit'), bar = $('upload-progress');
      btn.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      try {
        const r = await upload(fd, (p) => { bar.value = p; });
        await loadJobs();
        selectJob(r.id);
      } catch (x) {
        fail(`Could not start the analysis: ${x.message}`);
      } finally {
        btn.disabled = false;
        bar.hidden = true;
      }
    });
  }

  // ------------------------------------------------------------ jobs list

  let listBusy = false, listAgain = false;

  function stateBadge(state) {
    return el('span', { class: `state state-${state}`, text: state });
  }

  async function loadJobs() {
    if (listBusy) { listAgain = true; return; }
    listBusy = true;
    try {
      const st = $('state-filter').value;
      const q = new URLSearchParams({ limit: '100' });
      if (st) q.set('state', st);
      const data = await api('GET', `/v1/jobs?${q}`);
      renderJobs(data);
      if ($('notice').dataset.from === 'list') notice('');
    } catch (x) {
      notice(`Jobs: ${x.message}`);
      $('notice').dataset.from = 'list';
    } finally {
      listBusy = false;
      if (listAgain) { listAgain = false; loadJobs(); }
    }
  }

  let listKey = '';

  function renderJobs(data) {
    // redraw only on a change, so a periodic refresh keeps keyboard focus
    const key = JSON.stringify([data.total, current && current.id, (data.jobs || []).map((j) =>
      [j.id, j.state, j.progress && j.progress.percent, jobFiles(j.params).length])]);
    if (key === listKey) return;
    listKey = key;
    const tbody = $('jobs-table').tBodies[0];
    tbody.replaceChildren();
    for (const j of data.jobs || []) {
      if (current && current.id === j.id && current.job && j.state !== current.job.state) {
        // the list may be older than the live stream; trust the stream
        j.state = current.job.state;
        j.progress = current.job.progress;
      }
      const files = jobFiles(j.params).map(basename).join(', ');
      const tr = el('tr', { 'data-id': j.id, class: current && current.id === j.id ? 'selected' : '' },
        el('td', {}, el('button', { type: 'button', class: 'linkish', 'aria-label': `Open job ${j.id}`,
          onclick: () => selectJob(j.id) }, el('code', { text: short(j.id) }))),
        el('td', { class: 'files', text: files, title: files }),
        el('td', { class: 'job-state' }, stateBadge(j.state)),
        el('td', { class: 'num job-percent', text: fmtPct(j.progress && j.progress.percent) }),
        el('td', { class: 'when', text: fmtWhen(j.created), title: fmtTime(j.created) }));
      if (current && current.id === j.id) tr.setAttribute('aria-current', 'true');
      tbody.append(tr);
    }
    const shown = (data.jobs || []).length;
    $('jobs-empty').hidden = shown > 0;
    $('jobs-total').textContent = `${data.total} job${data.total === 1 ? '' : 's'}`;
  }

  function updateListRow(job) {
    const tr = document.querySelector(`#jobs-table tr[data-id="${job.id}"]`);
    if (!tr) return;
    tr.querySelector('.job-state').replaceChildren(stateBadge(job.state));
    tr.querySelector('.job-percent').textContent = fmtPct(job.progress && job.progress.percent);
  }

  // ------------------------------------------------------------ one job

  function live(text) { $('job-live').textContent = text; }

  function stopLive() {
    if (!current) return;
    if (current.es) { current.es.close(); current.es = null; }
    if (current.poll) { clearTimeout(current.poll); current.poll = null; }
  }

  function selectJob(id) {
    if (current && current.id === id) return;
    stopLive();
    current = { id, job: null, es: null, poll: null, resultsLoaded: false, results: null };
    try { history.replaceState(null, '', `#job=${id}`); } catch (e) { /* file: */ }
    for (const tr of document.querySelectorAll('#jobs-table tbody tr')) {
      const on = tr.dataset.id === id;
      tr.classList.toggle('selected', on);
      if (on) tr.setAttribute('aria-current', 'true'); else tr.removeAttribute('aria-current');
    }
    $('job').hidden = false;
    $('results').hidden = true;
    $('job-id').textContent = id;
    $('job-state').textContent = '…';
    $('job-error').hidden = true;
    live('—');
    refreshJob().then(startLive);
  }

  function jobGone(id) {
    if (!current || current.id !== id) return;
    stopLive();
    current = null;
    $('job').hidden = true;
    $('results').hidden = true;
    try { history.replaceState(null, '', location.pathname); } catch (e) { /* file: */ }
    loadJobs();
  }

  async function refreshJob() {
    if (!current) return;
    const id = current.id;
    try {
      showJob(await api('GET', `/v1/jobs/${id}`));
    } catch (x) {
      if (x.status === 404) { notice(`Job ${short(id)} no longer exists.`); jobGone(id); }
      else showJobError(x.message);
    }
  }

  function showJobError(msg) {
    const e = $('job-error');
    e.textContent = msg;
    e.hidden = !msg;
  }

  function startLive() {
    if (!current || !current.job) return;
    const id = current.id;
    if (FINISHED.has(current.job.state)) { live(`finished (${current.job.state})`); return; }
    if (current.es || current.poll) return;
    if (!window.EventSource) { startPolling(); return; }
    const es = new EventSource(withToken(`/v1/jobs/${id}/events`));
    current.es = es;
    const onJob = (ev) => {
      if (!current || current.id !== id) return;
      try { showJob(JSON.parse(ev.data)); } catch (e) { /* a partial event */ }
    };
    es.onopen = () => { if (current && current.es === es) live('live (server-sent events)'); };
    es.addEventListener('progress', onJob);
    es.addEventListener('done', (ev) => {
      es.close();
      if (current && current.es === es) current.es = null;
      onJob(ev);
      if (current && current.id === id) live(`finished (${current.job.state})`);
    });
    es.addEventListener('deleted', () => {
      es.close();
      jobGone(id);
    });
    es.onerror = () => {
      // the stream broke (or the browser cannot keep it): poll instead
      es.close();
      if (!current || current.es !== es) return;
      current.es = null;
      startPolling();
    };
  }

  function startPolling() {
    if (!current) return;
    const id = current.id;
    live('polling');
    const tick = async () => {
      if (!current || current.id !== id) return;
      current.poll = null;
      await refreshJob();
      if (!current || current.id !== id) return;
      if (current.job && FINISHED.has(current.job.state)) { live(`finished (${current.job.state})`); return; }
      current.poll = setTimeout(tick, POLL_EVERY_MS);
    };
    current.poll = setTimeout(tick, POLL_EVERY_MS);
  }

  function showJob(job) {
    if (!current || job.id !== current.id) return;
    const prev = current.job ? current.job.state : null;
    current.job = job;
    const st = $('job-state');
    st.textContent = job.state;
    st.className = `state state-${job.state}`;
    const p = job.progress || {};
    const pct = typeof p.percent === 'number' ? p.percent : 0;
    $('job-progress').value = pct;
    $('job-percent').textContent = fmtPct(pct);
    const unit = job.kind === 'project' ? 'points' : 'reviews';
    $('job-processed').textContent = p.total ? `${num(p.processed)} / ${num(p.total)} ${unit}` :
      p.processed ? `${num(p.processed)} ${unit}` : `no ${unit} read yet`;
    $('phases').hidden = job.kind === 'project'; // the phases are the analysis's
    $('job-chunk').textContent = p.chunks ? `· chunk ${p.chunk} of ${p.chunks}` : '';
    let eta = '';
    if (job.state === 'running') eta = job.eta_seconds === null || job.eta_seconds === undefined
      ? '· ETA estimating…' : `· ETA ${fmtDuration(job.eta_seconds)}`;
    else if (job.state === 'pausing' || job.state === 'cancelling') eta = '· stopping at the next check point…';
    else if (job.state === 'queued' && job.retry_at) eta = `· retry at ${fmtTime(job.retry_at)}`;
    $('job-eta').textContent = eta;
    let total = 0;
    for (const ph of PHASES) {
      const v = job.phases ? job.phases[ph] : undefined;
      if (typeof v === 'number') total += v;
      document.querySelector(`#phases td[data-phase="${ph}"]`).textContent = fmtSeconds(v);
    }
    document.querySelector('#phases td[data-phase="total"]').textContent = fmtSeconds(total);
    $('job-attempts').textContent = job.attempts ? `(failed attempts: ${job.attempts})` : '';
    showJobError(job.error ? (job.state === 'failed' ? `Failed: ${job.error}` : `Last attempt failed: ${job.error}`) : '');
    // the buttons follow the server's state machine (web/openapi.json, Job.state)
    const running = job.state === 'running', queued = job.state === 'queued';
    $('btn-pause').disabled = !(running || queued);
    $('btn-resume').disabled = job.state !== 'paused';
    $('btn-cancel').disabled = FINISHED.has(job.state) || job.state === 'cancelling';
    $('btn-delete').disabled = false;
    renderMeta(job);
    updateListRow(job);
    if (prev !== job.state) {
      loadJobs();
      if (prev && FINISHED.has(job.state)) live(`finished (${job.state})`);
    }
    if (job.state === 'succeeded' && !current.resultsLoaded) loadResults(job);
    if (job.state !== 'succeeded') $('results').hidden = true;
  }

  function renderMeta(job) {
    const dl = $('job-meta');
    dl.replaceChildren();
    const add = (k, v) => { dl.append(el('dt', { text: k }), el('dd', { text: v })); };
    const params = job.params || {};
    add('Kind', job.kind || 'analyze');
    add('Files', jobFiles(params).map(basename).join(', ') || '—');
    const opts = Object.entries(params).filter(([k]) => k !== 'inputs' && k !== 'input' && k !== 'themes')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
    add('Options', opts || 'defaults');
    add('Created', fmtTime(job.created));
    add('Started', fmtTime(job.started));
    add('Finished', fmtTime(job.finished));
  }

  async function control(action) {
    if (!current) return;
    const id = current.id;
    if (action === 'delete' && !window.confirm(`Delete job ${short(id)} and all its files?`)) return;
    for (const b of ['pause', 'resume', 'cancel', 'delete']) $(`btn-${b}`).disabled = true;
    try {
      if (action === 'delete') {
        await api('DELETE', `/v1/jobs/${id}`);
        jobGone(id);
        return;
      }
      const job = await api('POST', `/v1/jobs/${id}/${action}`);
      showJob(job);
      if (current && current.id === id && !FINISHED.has(job.state) && !current.es && !current.poll) startLive();
    } catch (x) {
      showJobError(`Could not ${action}: ${x.message}`);
      await refreshJob();
    }
  }

  // ------------------------------------------------------------ results

  async function loadResults(job) {
    const id = job.id;
    current.resultsLoaded = true;
    const sec = $('results');
    sec.hidden = false;
    const dl = $('downloads');
    dl.replaceChildren(el('span', { class: 'help', text: 'Download: ' }));
    for (const f of job.results || []) {
      dl.append(el('a', { href: withToken(`/v1/jobs/${id}/results/${f}`), download: f, class: 'download',
        text: f }), ' ');
    }
    $('results-summary').textContent = 'Loading the results…';
    $('games').replaceChildren();
    $('game').hidden = true;
    if (job.kind === 'project') { loadProjection(job); return; }
    let report, quotes = [], samples = new Map();
    try {
      report = await api('GET', `/v1/jobs/${id}/results/report.json`);
    } catch (x) {
      if (current && current.id === id) $('results-summary').textContent = `Could not load report.json: ${x.message}`;
      return;
    }
    const has = (f) => (job.results || []).includes(f);
    const sum = has('summaries.csv') ? await apiText(`/v1/jobs/${id}/results/summaries.csv`).catch(() => '') : '';
    if (!current || current.id !== id) return;
    quotes = sum ? parseCSV(sum) : [];
    // sample reviews come with each theme in report.json
    for (const app of report.apps || [])
      for (const t of app.themes || [])
        samples.set(`${app.app_id}\u0000${t.theme}`, (t.samples || []).map((x) => ({ sentiment: x.sentiment, text: x.text })));
    const byTheme = new Map();
    for (const q of quotes) {
      const k = `${q.steam_appid}\u0000${q.Theme}`;
      if (!byTheme.has(k)) byTheme.set(k, { positive: [], negative: [] });
      (q.sentiment === 'negative' ? byTheme.get(k).negative : byTheme.get(k).positive).push(q);
    }
    // the maps: report.html carries each game's points (with their texts)
    const maps = new Map();
    if (has('map.csv')) {
      const html = await apiText(`/v1/jobs/${id}/results/report.html`).catch(() => '');
      if (!current || current.id !== id) return;
      const doc = new DOMParser().parseFromString(html, 'text/html');
      for (const sec of doc.querySelectorAll('section.game[data-app]')) {
        const d = sec.querySelector('figure.map .mapdata');
        if (d) try { maps.set(sec.dataset.app, JSON.parse(d.textContent)); } catch (e) { /* not drawn */ }
      }
    }
    current.results = { report, quotes: byTheme, samples, maps };
    renderResults(report);
  }

  // a project job: its projection.csv as a map of points (id as the label)
  async function loadProjection(job) {
    const id = job.id;
    let rows;
    try {
      rows = parseCSV(await apiText(`/v1/jobs/${id}/results/projection.csv`));
    } catch (x) {
      if (current && current.id === id) $('results-summary').textContent = `Could not load projection.csv: ${x.message}`;
      return;
    }
    if (!current || current.id !== id) return;
    const step = Math.ceil(rows.length / MAP_POINTS) || 1;
    const points = [];
    for (let i = 0; i < rows.length; i += step) points.push([Number(rows[i].x), Number(rows[i].y), 0, null, rows[i].id]);
    const input = basename(jobFiles(job.params)[0]);
    const dims = rows.length && 'z' in rows[0] ? 3 : 2;
    $('results-summary').textContent = `${num(rows.length)} points projected to ${dims} dimensions` +
      (dims === 3 ? ' (the map shows x and y)' : '');
    $('game').hidden = false;
    $('game-title').textContent = `Projection of ${input}`;
    $('game-totals').textContent = '';
    $('themes-box').hidden = true;
    $('theme-detail').hidden = true;
    showMap('Map of the points', { classes: ['points'], grey: -1, points },
      `${num(rows.length)} points${step > 1 ? `; every ${step}th is drawn` : ''}. Hover a point to see its id.`);
  }

  function showMap(title, data, caption) {
    $('map-panel').hidden = !data;
    if (!data) return;
    $('map-title').textContent = title;
    $('map-caption').textContent = caption;
    window.lensMap.draw($('map-fig'), data);
  }

  function renderResults(report) {
    const c = report.counts || {};
    const parts = [`${num(c.analyzed)} of ${num(c.rows)} reviews analysed`];
    if (c.unassigned) parts.push(`${num(c.unassigned)} unassigned`);
    if (c.other_language) parts.push(`${num(c.other_language)} in other languages`);
    if (c.empty) parts.push(`${num(c.empty)} empty`);
    if (c.unknown_app) parts.push(`${num(c.unknown_app)} of games without themes`);
    parts.push(`model ${basename(report.model)} (${report.precision})`);
    parts.push(`min. similarity ${report.min_similarity === null ? 'off' : report.min_similarity}`);
    parts.push(`sentiment: ${report.sentiment}`);
    $('results-summary').textContent = parts.join(' · ');
    const nav = $('games');
    nav.replaceChildren();
    const apps = report.apps || [];
    if (!apps.length) {
      nav.append(el('p', { class: 'help', text: 'No game in the input has themes in themes.json.' }));
      return;
    }
    for (const app of apps) {
      nav.append(el('button', { type: 'button', class: 'game-btn', 'data-app': app.app_id, 'aria-pressed': 'false',
        onclick: () => renderGame(app) }, app.name || app.app_id, ' ', el('small', { text: app.app_id })));
    }
    renderGame(apps[0]);
  }

  function renderGame(app) {
    for (const b of $('games').querySelectorAll('button')) {
      b.setAttribute('aria-pressed', b.dataset.app === app.app_id ? 'true' : 'false');
    }
    const g = $('game');
    g.hidden = false;
    g.dataset.app = app.app_id;
    $('game-title').textContent = `${app.name || app.app_id} (${app.app_id})`;
    // a game's own counts: with top_k > 1 a review is in several themes, so
    // summing the themes would count it more than once
    let total = app.reviews, pos = app.positive, top = 0;
    for (const t of app.themes) top = Math.max(top, t.reviews);
    $('game-totals').textContent = `${num(total)} reviews · ${total ? (100 * pos / total).toFixed(1) : 0}% positive`;
    $('themes-box').hidden = false;
    $('theme-detail').hidden = false;
    const map = current.results.maps.get(app.app_id);
    showMap('Map of the reviews', map, map ? `${num(map.points.length)} reviews (UMAP of their embeddings; ` +
      'nearby reviews say similar things). Hover a point to read it.' : '');
    const tbody = $('themes-table').tBodies[0];
    tbody.replaceChildren();
    for (const t of app.themes) {
      const bar = el('div', { class: 'bar', role: 'img',
        'aria-label': `${t.positive} positive and ${t.negative} negative of ${top} (largest theme)` },
      el('span', { class: 'pos', style: `width:${top ? 100 * t.positive / top : 0}%` }),
      el('span', { class: 'neg', style: `width:${top ? 100 * t.negative / top : 0}%` }));
      const tr = el('tr', { class: t.theme === 'unassigned' ? 'theme unassigned' : 'theme', 'data-theme': t.theme },
        el('th', { scope: 'row' }, el('button', { type: 'button', class: 'linkish theme-btn', 'aria-pressed': 'false',
          onclick: () => renderTheme(app, t) }, t.theme)),
        el('td', { class: 'num reviews', text: String(t.reviews) }),
        el('td', { class: 'num positive', text: String(t.positive) }),
        el('td', { class: 'num negative', text: String(t.negative) }),
        el('td', { class: 'num like', text: `${(100 * t.like_ratio).toFixed(1)}%` }),
        el('td', { class: 'num sim', text: typeof t.mean_similarity === 'number' ? t.mean_similarity.toFixed(3) : '—' }),
        el('td', { class: 'bar-cell' }, bar));
      tr.addEventListener('click', (e) => { if (!e.target.closest('button')) renderTheme(app, t); });
      tbody.append(tr);
    }
    // open the largest assigned theme first
    const first = app.themes.filter((t) => t.theme !== 'unassigned').sort((a, b) => b.reviews - a.reviews)[0]
      || app.themes[0];
    if (first) renderTheme(app, first);
  }

  function renderTheme(app, t) {
    for (const tr of $('themes-table').tBodies[0].rows) {
      const on = tr.dataset.theme === t.theme;
      tr.classList.toggle('selected', on);
      tr.querySelector('.theme-btn').setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    const d = $('theme-detail');
    d.dataset.theme = t.theme;
    $('theme-title').textContent = `${t.theme}: ${num(t.reviews)} reviews, ${(100 * t.like_ratio).toFixed(1)}% positive`;
    const key = `${app.app_id}\u0000${t.theme}`;
    const q = (current.results.quotes.get(key)) || { positive: [], negative: [] };
    for (const s of ['positive', 'negative']) {
      const box = $(`quotes-${s}`);
      box.replaceChildren();
      const list = q[s].slice().sort((a, b) => Number(a.rank) - Number(b.rank));
      if (!list.length) box.append(el('p', { class: 'help', text: 'none' }));
      for (const x of list) {
        const n = Number(x.reviews);
        box.append(el('blockquote', { class: `quote ${s}`, 'data-reviews': x.reviews },
          el('p', { text: x.quote }),
          el('footer', {}, `stands for ${num(n)} review${n === 1 ? '' : 's'}`,
            x.review_id ? ` · review ${x.review_id}` : '')));
      }
    }
    const box = $('samples');
    box.replaceChildren();
    const samples = current.results.samples.get(key) || [];
    if (!samples.length) box.append(el('p', { class: 'help', text: 'none' }));
    for (const s of samples) {
      box.append(el('p', { class: 'sample' }, el('b', { class: s.sentiment, text: s.sentiment }), ' ', s.text));
    }
  }

  // ------------------------------------------------------------ start

  function init() {
    initToken();
    initForm();
    $('state-filter').addEventListener('change', loadJobs);
    $('refresh').addEventListener('click', loadJobs);
    for (const a of ['pause', 'resume', 'cancel', 'delete']) $(`btn-${a}`).addEventListener('click', () => control(a));
    loadJobs();
    setInterval(() => { if (document.visibilityState !== 'hidden') loadJobs(); }, LIST_EVERY_MS);
    // #job=ID opens a job, at load and when the address changes
    const fromHash = () => {
      const m = /^#job=([0-9a-f]{32})$/.exec(location.hash);
      if (m) selectJob(m[1]);
    };
    window.addEventListener('hashchange', fromHash);
    fromHash();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
