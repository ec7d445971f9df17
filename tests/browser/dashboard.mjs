#!/usr/bin/env node
// Browser end-to-end test of the embedded dashboard (crates/dashboard), driven by
// crates/wishcast/tests/e2e_dashboard.rs. One headless Chromium (Debian's, via
// playwright-core) uses the dashboard like an operator, with the page's
// Content-Security-Policy enforced (no bypassCSP) and every console error counted.
//
//   node tests/browser/dashboard.mjs --base http://127.0.0.1:MANAGER --scenario cluster \
//        --user admin --password PW --screenshots DIR [--timeout-s 110]
//   node tests/browser/dashboard.mjs --base http://127.0.0.1:NODE --scenario node \
//        --token ADMIN_TOKEN --screenshots DIR
//
// cluster: log in (a wrong password shows the server's error first), see the nodes
//   of `wishcast run`, drain/undrain a node (checked through the API), publish a
//   fake camera from the Publish page, the stream appears live on the Streams page,
//   the Preview page decodes it (framesDecoded > 0 in its stats), mint a
//   subscribe-only token and use it for a real WHEP request (201; the same token
//   on WHIP gets 403), a second viewer is cascaded to node2 (nodes take 1 viewer)
//   and the stream tree shows the cascade copy and both relay ends, kick the token's
//   session with its Kick button (gone from the API),
//   Start recording: either it succeeds (then the stream is listed by
//   GET /api/playback, its day plays in dash.js past 3 s, and Stop works), or the
//   card shows the server's 404/503 error and the Recordings page an empty state;
//   labels on every field, no horizontal overflow at 375 px on every page, focus
//   kept across live updates, keyboard-only login, log out.
// node: the same app served by a standalone node: token login, no cluster pages,
//   simulcast publish + preview decode, Force layer q → the player receives q.
// Screenshots of every page at 1280×720 and 375×812 go to --screenshots.
// Prints one JSON line ({"ok":...}) on stdout; exit 0 on success, 1 on failure.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { findChromium, CHROMIUM_ARGS, installClient, sleep, Check, parseCli, cliFail, arg } from './lib.mjs';

const USAGE =
  'usage: node tests/browser/dashboard.mjs --base URL --scenario cluster|node [--user U --password P] [--token T] ' +
  '--screenshots DIR [--timeout-s N]';
const usage = cliFail('dashboard.mjs', USAGE);

function parseArgs(argv) {
  const o = parseCli(argv, {
    usage: USAGE,
    fail: usage,
    defaults: { timeoutS: 110 },
    flags: {
      '--base': ['base', arg.url],
      '--scenario': ['scenario'],
      '--user': ['user'],
      '--password': ['password'],
      '--token': ['token'],
      '--screenshots': ['shots'],
      '--timeout-s': ['timeoutS', arg.num],
    },
  });
  if (!o.base || !o.shots || !['cluster', 'node'].includes(o.scenario)) usage('--base, --scenario cluster|node and --screenshots are required');
  if (o.scenario === 'cluster' && (!o.user || !o.password)) usage('cluster needs --user and --password');
  if (o.scenario === 'node' && !o.token) usage('node needs --token');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const check = new Check();
const result = { scenario: opts.scenario, screenshots: [] };
const consoleErrors = [];
const steps = [];
const WIDE = { width: 1280, height: 720 };
const PHONE = { width: 375, height: 812 };
const PAGES = opts.scenario === 'cluster' ? ['cluster', 'streams', 'preview', 'publish', 'recordings'] : ['streams', 'preview', 'publish', 'recordings'];
// Network failures the scenario provokes on purpose (a wrong password, the probe
// before login, recording routes that are missing or off) are logged by Chromium as
// "Failed to load resource"; any other console error fails the test.
const EXPECTED_NETWORK = /^Failed to load resource: the server responded with a status of (401|403|404|503)\b/;

function step(name) {
  steps.push(`${Date.now() - t0}ms ${name}`);
  console.error(`[dashboard] ${name}`);
}

const t0 = Date.now();
let browser;
let page;

async function shot(name, size) {
  fs.mkdirSync(opts.shots, { recursive: true });
  const file = path.join(opts.shots, `${opts.scenario}-${name}-${size.width}x${size.height}.png`);
  await page.screenshot({ path: file, fullPage: true });
  result.screenshots.push(path.basename(file));
}

async function waitReady() {
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
}

/** Navigates the app's hash router and waits for the page module to render. */
async function goto(p, query = '') {
  await page.evaluate((h) => { location.hash = h; }, `#/${p}${query}`);
  await page.waitForFunction((n) => document.getElementById('main').dataset.page === n, p, { timeout: 10000 });
  await sleep(300);
}

/** admin API call from inside the page, with the page's own token. */
async function api(method, url, body) {
  return page.evaluate(async ([m, u, b]) => {
    const headers = {};
    const t = sessionStorage.getItem('wishcast.token');
    if (t) headers.Authorization = `Bearer ${t}`;
    if (b !== null) headers['Content-Type'] = 'application/json';
    const r = await fetch(u, { method: m, headers, body: b === null ? undefined : JSON.stringify(b) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch {}
    return { status: r.status, text, json };
  }, [method, url, body === undefined ? null : body]);
}

async function waitFor(what, fn, timeoutMs = 15000, intervalMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last && last.ok) return last;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last && last.detail !== undefined ? last.detail : last)}`);
    await sleep(intervalMs);
  }
}

async function noHorizontalOverflow(label) {
  const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth, body: document.body.scrollWidth }));
  check.that(m.scroll <= m.inner && m.body <= m.inner, `${label}: horizontal overflow at ${m.inner}px (document ${m.scroll}px, body ${m.body}px)`);
  return m;
}

async function framesDecoded() {
  const v = await page.getAttribute('[data-stat="framesDecoded"]', 'data-value').catch(() => null);
  return Number(v || 0);
}

async function publishFromPage(stream, simulcast = false, codec = 'VP8') {
  await goto('publish');
  await page.fill('#pub-stream', stream);
  if (simulcast) await page.check('#pub-simulcast');
  const codecs = await page.$$eval('#pub-codec option', (os) => os.map((o) => o.value));
  check.that(codecs.includes(codec), `codec choice offers ${codec} (${codecs.join(',')})`);
  await page.selectOption('#pub-codec', codec);
  await page.click('button:has-text("Start publishing")');
  await page.waitForSelector('#onair:not([hidden])', { timeout: 15000 });
  await waitFor('publisher connected', async () => {
    const t = await page.textContent('[data-stat="connection"]').catch(() => '');
    return { ok: t === 'connected', detail: t };
  });
  result.publishedCodec = await page.textContent('[data-stat="codec"]').catch(() => '');
}

async function previewDecodes(stream) {
  await goto('preview', `?stream=${encodeURIComponent(stream)}`);
  const r = await waitFor('preview framesDecoded > 0', async () => {
    const n = await framesDecoded();
    return { ok: n > 0, detail: n };
  }, 20000);
  result.previewFramesDecoded = r.detail;
  await sleep(1500); // let bitrate/fps fill in for the screenshot
  const res = await page.textContent('[data-stat="resolution"]');
  check.that(/\d+×\d+/.test(res), `preview shows a resolution (${res})`);
  result.previewResolution = res;
}

/** Every form field has a label, and nothing clickable is a bare div/span. */
async function accessible(label) {
  const bad = await page.evaluate(() => {
    const out = [];
    for (const e of document.querySelectorAll('input, select, textarea')) {
      if (e.type === 'hidden') continue;
      if (!(e.labels && e.labels.length) && !e.getAttribute('aria-label')) out.push(`unlabelled ${e.tagName.toLowerCase()}#${e.id}`);
    }
    for (const e of document.querySelectorAll('button, a')) {
      if (!(e.textContent.trim() || e.getAttribute('aria-label'))) out.push(`nameless ${e.tagName.toLowerCase()}`);
    }
    return out;
  });
  check.that(bad.length === 0, `${label}: ${bad.join(', ')}`);
}

async function phonePass(pages) {
  await page.setViewportSize(PHONE);
  for (const p of pages) {
    await goto(p);
    await sleep(500);
    await accessible(`${p} page`);
    await noHorizontalOverflow(`${p} page`);
    await shot(p, PHONE);
  }
  await page.setViewportSize(WIDE);
}

/**
 * The recording was started from the stream card: record ~8 s, Stop recording,
 * the stream is listed by GET /api/playback, its day (calendar) plays in dash.js
 * past 3 s, and the MP4 export link serves an MP4 (`ftyp`).
 */
async function recordedPlays(stream, card) {
  await sleep(8000);
  await page.click(`${card} button:has-text("Stop recording")`);
  await sleep(1000);
  const stopErr = await page.$(`${card} [role=alert]`);
  check.that(!stopErr, `Stop recording succeeded (${stopErr ? await stopErr.textContent() : ''})`);
  await waitFor('the recorded stream in GET /api/playback', async () => {
    const r = await api('GET', '/api/playback');
    return { ok: Array.isArray(r.json) && r.json.includes(stream), detail: `${r.status} ${r.text.slice(0, 200)}` };
  }, 30000, 1000);
  await goto('recordings', `?stream=${encodeURIComponent(stream)}`);
  await page.waitForSelector('#rec-days .calendar button', { timeout: 10000 });
  await page.click('#rec-days .calendar button');
  const played = await waitFor('dash.js playback past 3 s', async () => {
    const v = await page.evaluate(() => {
      const e = document.getElementById('rec-video');
      if (!e) return null;
      const q = e.getVideoPlaybackQuality ? e.getVideoPlaybackQuality() : {};
      return { t: e.currentTime, rs: e.readyState, w: e.videoWidth, h: e.videoHeight, frames: q.totalVideoFrames, err: document.querySelector('#rec-player [role=alert]')?.textContent || '' };
    });
    return { ok: !!v && v.t > 3, detail: v };
  }, 40000, 500);
  result.recordingCurrentTime = played.detail.t;
  result.recordingVideo = `${played.detail.w}x${played.detail.h}, ${played.detail.frames} frames`;
  if (!check.that(played.detail.w > 0 && played.detail.frames > 0, `the recording has decoded video (${JSON.stringify(played.detail)})`)) {
    const mpd = await page.evaluate(async () => {
      const a = [...document.querySelectorAll('#rec-player a')].find((x) => /Manifest/.test(x.textContent));
      const t = sessionStorage.getItem('wishcast.token');
      const r = await fetch(a.getAttribute('href'), { headers: t ? { Authorization: `Bearer ${t}` } : {} });
      return r.text();
    });
    console.error(`--- recorded MPD ---\n${mpd}`);
  }
  await page.evaluate(() => document.getElementById('rec-video').pause());
  const href = await page.getAttribute('a:has-text("Download MP4")', 'href');
  check.that(/\/api\/record\/export\//.test(href), `MP4 export link (${href})`);
  const mp4 = await page.evaluate(async (u) => {
    const t = sessionStorage.getItem('wishcast.token');
    const r = await fetch(u, { headers: t ? { Authorization: `Bearer ${t}` } : {} });
    const b = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get('content-type'), size: b.length, box: String.fromCharCode(...b.slice(4, 8)) };
  }, href);
  check.that(mp4.status === 200 && mp4.box === 'ftyp' && mp4.size > 10000, `the MP4 export downloads (${JSON.stringify(mp4)})`);
  result.exportBytes = mp4.size;
  result.recording = 'recorded and played';
}

async function clusterScenario() {
  const stream = `dash-${Math.random().toString(36).slice(2, 8)}`;
  result.stream = stream;

  step('login page');
  await page.goto(`${opts.base}/`);
  await waitReady();
  await page.waitForSelector('#login-title');
  check.that(await page.isHidden('#nav'), 'the nav is hidden before login');
  await shot('login', WIDE);
  await page.fill('input[name=username]', opts.user);
  await page.fill('input[name=password]', 'not-the-password');
  await page.click('button:has-text("Log in")');
  const alert = await page.waitForSelector('[role=alert]', { timeout: 10000 });
  const alertText = await alert.textContent();
  check.that(/Wrong credentials/.test(alertText) && /401/.test(alertText), `a wrong password shows the server's error (${alertText})`);
  // The correct login by keyboard only: focus order username → password → submit.
  await page.fill('input[name=username]', '');
  await page.fill('input[name=password]', '');
  await page.focus('input[name=username]');
  await page.keyboard.type(opts.user);
  await page.keyboard.press('Tab');
  check.that(await page.evaluate(() => document.activeElement.name) === 'password', 'Tab moves from username to password');
  await page.keyboard.type(opts.password);
  await page.keyboard.press('Enter');

  step('cluster page');
  await page.waitForFunction(() => document.getElementById('main').dataset.page === 'cluster', null, { timeout: 10000 });
  const token = await page.evaluate(() => sessionStorage.getItem('wishcast.token'));
  check.that(token && token.split('.').length === 3, 'login keeps a JWT in sessionStorage');
  await waitFor('node1 and node2 running on the cluster page', async () => {
    const nodes = await page.$$eval('section.node', (ss) => ss.map((s) => ({ alias: s.dataset.alias, text: s.textContent })));
    const ok = ['node1', 'node2'].every((a) => nodes.some((n) => n.alias === a && n.text.includes('running')));
    return { ok, detail: nodes.map((n) => n.alias) };
  });
  result.nodesShown = await page.$$eval('section.node', (ss) => ss.map((s) => s.dataset.alias));
  await shot('cluster', WIDE);

  step('drain / undrain node1');
  await page.focus('button[aria-label="Drain node node1"]');
  await page.keyboard.press('Enter'); // buttons are real buttons: Enter activates them
  await page.waitForSelector('section.node[data-alias="node1"] .badge.warn:has-text("drained")', { timeout: 10000 });
  let nodes = await api('GET', '/api/nodes/');
  check.that(nodes.json && nodes.json.find((n) => n.alias === 'node1').drained === true, `node1 drained in GET /api/nodes/ (${nodes.text.slice(0, 200)})`);
  await page.click('button[aria-label="Undrain node node1"]');
  await page.waitForSelector('button[aria-label="Drain node node1"]', { timeout: 10000 });
  nodes = await api('GET', '/api/nodes/');
  check.that(nodes.json && nodes.json.every((n) => n.drained === false), 'every node undrained again');

  step('publish from the page');
  await publishFromPage(stream);
  await shot('publish', WIDE);

  step('streams page shows the publisher live');
  await goto('streams');
  await waitFor('the stream card with a connected publisher', async () => {
    const t = await page.textContent(`section.stream[data-stream="${stream}"]`).catch(() => '');
    return { ok: /publisher/.test(t) && /connected/.test(t), detail: t.slice(0, 200) };
  });
  check.that(await page.isVisible(`section.stream[data-stream="${stream}"] button:has-text("Copy WHIP URL")`), 'Copy WHIP URL button');
  // Live redraws (SSE + per-node refresh, several in 5 s) keep keyboard focus.
  await page.focus(`section.stream[data-stream="${stream}"] button:has-text("Copy WHIP URL")`);
  await sleep(5000);
  const focusKey = await page.evaluate(() => document.activeElement && document.activeElement.dataset.key);
  check.that(focusKey === `whip:${stream}`, `focus survives live updates (focused: ${focusKey})`);

  step('preview plays');
  await previewDecodes(stream);
  await shot('preview', WIDE);

  step('mint a subscribe token and use it for WHEP');
  await goto('streams');
  // Leaving the Preview page hung up its viewer. Nodes take one viewer per stream
  // here, so wait until the manager's view no longer counts it (a heartbeat later)
  // before placing the next viewers.
  await waitFor('the preview viewer gone from the manager view', async () => {
    const r = await api('GET', `/api/streams/${encodeURIComponent(stream)}`);
    const subs = r.json ? Object.values(r.json).reduce((n, c) => n + c.subscribe.sessions.length, 0) : -1;
    return { ok: subs === 0, detail: `${subs} subscribers: ${r.text.slice(0, 200)}` };
  }, 10000, 250);
  await page.fill('#tok-stream', stream);
  await page.uncheck('#tok-publish');
  await page.check('#tok-subscribe');
  await page.selectOption('#tok-ttl', '3600');
  await page.click('button:has-text("Mint token")');
  await page.waitForSelector('#tok-value', { timeout: 10000 });
  const minted = await page.inputValue('#tok-value');
  check.that(minted && minted !== token && minted.split('.').length === 3, 'a new JWT is shown');
  const claims = JSON.parse(Buffer.from(minted.split('.')[1], 'base64url').toString());
  check.that(claims.id === stream && claims.mode === 4, `token claims ${JSON.stringify(claims)} = subscribe on ${stream}`);
  check.that(await page.inputValue('#tok-whep') === `${opts.base}/whep/${stream}`, 'player URL shown');
  await page.evaluate(`(${installClient.toString()})();`);
  const whepId = await page.evaluate(([u, t]) => window.wc.play(u, { token: t }), [`/whep/${stream}`, minted]);
  const whepInfo = await page.evaluate((i) => window.wc.info(i), whepId);
  // lib.mjs's client adds a <video> of its own: not part of the dashboard.
  await page.evaluate((i) => window.wc.sessions.get(i).video.remove(), whepId);
  check.that(whepInfo.status === 201, `WHEP with the minted token -> ${whepInfo.status}`);
  result.tokenWhepStatus = whepInfo.status;
  const whip = await page.evaluate(async ([u, t]) => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'sendonly' });
    const o = await pc.createOffer();
    pc.close();
    const r = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${t}` }, body: o.sdp });
    return { status: r.status, text: await r.text() };
  }, [`/whip/${stream}`, minted]);
  check.that(whip.status === 403, `WHIP with the subscribe-only token -> ${whip.status} ${whip.text}`);

  step('a second viewer cascades to node2: the stream tree shows the relay');
  // Nodes take 1 viewer per stream (each_stream_max_sub = 1), so this viewer makes
  // the manager cascade the stream onto the other node.
  const v2 = await page.evaluate(([u, t]) => window.wc.play(u, { token: t }), [`/whep/${stream}`, token]);
  await page.evaluate((i) => window.wc.sessions.get(i).video.remove(), v2);
  const streamCard = `section.stream[data-stream="${stream}"]`;
  await waitFor('a cascade copy with its relay in the stream tree', async () => {
    const t = await page.textContent(streamCard).catch(() => '');
    return { ok: /cascade copy/.test(t) && /relay out/.test(t) && /relay in/.test(t) && (t.match(/node node\d/g) || []).length === 2, detail: t.slice(0, 500) };
  }, 25000, 500);
  await sleep(1000);
  await shot('streams', WIDE);

  step('kick the token session');
  const sid = whepInfo.location.split('/').pop();
  const kickSel = `[data-session="${sid}"] button:has-text("Kick")`;
  await page.waitForSelector(kickSel, { timeout: 15000 });
  await page.click(kickSel);
  await waitFor('the kicked session gone from GET /api/streams/', async () => {
    const r = await api('GET', `/api/streams/${encodeURIComponent(stream)}`);
    return { ok: r.status === 200 && !r.text.includes(sid), detail: r.text.slice(0, 300) };
  });
  await page.waitForSelector(`[data-session="${sid}"]`, { state: 'detached', timeout: 15000 });
  result.kicked = sid;
  await page.evaluate((i) => window.wc.close(i), v2);

  step('recordings');
  await goto('streams');
  const card = `section.stream[data-stream="${stream}"]`;
  await page.click(`${card} button:has-text("Start recording")`);
  await sleep(2000);
  const recErr = await page.$(`${card} [role=alert]`);
  if (recErr) {
    // No recorder behind this server (route missing: 404, or recording off: 503):
    // the error must say so, and the Recordings page must show an empty state.
    const text = await recErr.textContent();
    result.recording = `unavailable: ${text}`;
    check.that(/POST \/api\/record\/\S+ → (404|503)/.test(text), `Start recording shows the server's error with its status (${text})`);
    await goto('recordings');
    await page.waitForSelector('#rec-streams .empty, #rec-streams [role=alert], #rec-stream', { timeout: 10000 });
    const empty = await page.textContent('#rec-streams');
    check.that(/Recording is not available on this server|Recording is off on this server|No recordings yet/.test(empty), `recordings empty state (${empty})`);
  } else {
    await recordedPlays(stream, card);
  }
  await goto('recordings');
  await sleep(500);
  await shot('recordings', WIDE);

  step('phone width');
  await phonePass(PAGES);

  step('log out');
  await page.click('#logout');
  await page.waitForSelector('#login-title', { timeout: 10000 });
  check.that(!(await page.evaluate(() => sessionStorage.getItem('wishcast.token'))), 'logout clears the token');
  const onAir = await api('GET', `/api/streams/`);
  check.that(onAir.status === 401, `after logout the API asks for a token again (${onAir.status})`);
  await page.setViewportSize(PHONE);
  await noHorizontalOverflow('login page');
  await shot('login', PHONE);
}

async function nodeScenario() {
  const stream = `node-${Math.random().toString(36).slice(2, 8)}`;
  result.stream = stream;
  step('node: token login');
  await page.goto(`${opts.base}/`);
  await waitReady();
  await page.waitForSelector('input[name=token]');
  check.that((await page.$$('input[name=username]')).length === 0, 'no account form on a node');
  await shot('login', WIDE);
  await page.fill('input[name=token]', 'wrong-token');
  await page.click('button:has-text("Use token")');
  const alert = await (await page.waitForSelector('[role=alert]', { timeout: 10000 })).textContent();
  check.that(/401/.test(alert), `a wrong token shows the server's error (${alert})`);
  await page.fill('input[name=token]', opts.token);
  await page.click('button:has-text("Use token")');
  await page.waitForFunction(() => document.getElementById('main').dataset.page === 'streams', null, { timeout: 10000 });
  const mode = await page.textContent('#mode');
  check.that(mode === 'media node', `header says media node (${mode})`);
  const hidden = await page.$$eval('#nav a[data-cluster]', (as) => as.map((a) => `${a.dataset.page}:${a.hidden}`));
  check.that(hidden.join() === 'cluster:true', `only Cluster is hidden on a node (${hidden.join()})`);
  await page.waitForSelector('#stream-list .empty', { timeout: 10000 });
  // H264 here, VP8 in the cluster run (when it records): both recordings must play.
  step('node: publish (H264 simulcast) + preview');
  await publishFromPage(stream, true, 'H264');
  await shot('publish', WIDE);
  await goto('streams');
  await page.waitForSelector(`section.stream[data-stream="${stream}"]`, { timeout: 10000 });
  await shot('streams', WIDE);
  await previewDecodes(stream);
  step('node: simulcast layer selector');
  await waitFor('the layer table lists q, h and f', async () => {
    const rids = await page.$$eval('#preview-layers tbody tr td:first-child', (tds) => tds.map((t) => t.textContent.split(' ')[0]));
    return { ok: ['q', 'h', 'f'].every((r) => rids.includes(r)), detail: rids };
  }, 15000, 500);
  await page.click('button[aria-label="Force layer q"]');
  const layer = await waitFor('layer q received after Force', async () => {
    const t = await page.textContent('[data-stat="layer"]').catch(() => '');
    return { ok: t === 'q', detail: t };
  }, 15000, 500);
  result.forcedLayer = layer.detail;
  await shot('preview', WIDE);
  step('node: record from the Streams page, play it back');
  await goto('streams');
  const card = `section.stream[data-stream="${stream}"]`;
  await page.click(`${card} button:has-text("Start recording")`);
  await sleep(1500);
  const recErr = await page.$(`${card} [role=alert]`);
  if (recErr) throw new Error(`Start recording failed on a node with [recorder]: ${await recErr.textContent()}`);
  check.that(await page.isVisible(`${card} .badge:has-text("recording")`), 'the card shows the recording badge');
  await recordedPlays(stream, card);
  await shot('recordings', WIDE);
  await phonePass(PAGES);
}

const watchdog = setTimeout(() => finish(new Error(`scenario timed out after ${opts.timeoutS} s`)), opts.timeoutS * 1000);

async function finish(err) {
  clearTimeout(watchdog);
  const unexpected = consoleErrors.filter((l) => !EXPECTED_NETWORK.test(l.text));
  if (!err && unexpected.length) err = new Error(`console errors: ${unexpected.map((l) => `${l.url}: ${l.text}`).join(' | ')}`);
  if (!err) {
    try { check.throwIfFailed(); } catch (e) { err = e; }
  }
  result.consoleErrors = [...new Set(consoleErrors.map((l) => l.text))];
  result.elapsedMs = Date.now() - t0;
  if (err) {
    result.ok = false;
    result.error = String(err.message || err) + (check.failures.length && !String(err.message).includes(check.failures[0]) ? `; ${check.failures.join('; ')}` : '');
    console.error('--- steps ---');
    steps.forEach((s) => console.error(s));
    console.error('--- console ---');
    consoleErrors.forEach((l) => console.error(`${l.type} ${l.url}: ${l.text}`));
    if (page) {
      try {
        await page.screenshot({ path: path.join(opts.shots, `${opts.scenario}-FAILURE.png`), fullPage: true });
        console.error(`--- main ---\n${(await page.textContent('main')).slice(0, 3000)}`);
      } catch {}
    }
    if (err.stack) console.error(err.stack);
  } else {
    result.ok = true;
  }
  console.log(JSON.stringify(result));
  if (browser) await browser.close().catch(() => {});
  process.exit(result.ok ? 0 : 1);
}

try {
  browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
  result.chromium = browser.version();
  const context = await browser.newContext({ viewport: WIDE, permissions: ['camera', 'microphone'] });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push({ type: m.type(), text: m.text(), url: (m.location() || {}).url || '' });
  });
  page.on('pageerror', (e) => consoleErrors.push({ type: 'pageerror', text: e.message, url: '' }));
  if (opts.scenario === 'cluster') await clusterScenario();
  else await nodeScenario();
  await finish(null);
} catch (e) {
  await finish(e);
}
