// Recordings: streams with recordings (GET /api/playback) → the days of one stream
// (GET /api/playback/{stream}, [{year, month, day, mpd_path}]) as a month calendar
// → DASH playback of /api/record/object/{mpd_path} with the vendored dash.js
// (loaded only on this page) and a download of the day's MP4 export
// (/api/record/export/{stream}/{YYYY}/{MM}/{DD}).

import { auth, getJson, enc } from '../api.js';
import { h, clear, errorBox, emptyState, field } from '../ui.js';

export const title = 'Recordings';
const DOW = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const pad = (n) => String(n).padStart(2, '0');

/** A 404 whose body is empty: the server has no such route (recording not built in). */
function missingRoute(e) {
  return e && e.status === 404 && (!e.serverMessage || e.serverMessage === 'Not Found');
}

export function render(main, params) {
  let player = null;
  const streamsBox = h('div', { id: 'rec-streams' }, h('p', { class: 'muted' }, 'Loading…'));
  const daysBox = h('div', { id: 'rec-days' });
  const playerBox = h('div', { id: 'rec-player' });
  const daysPanel = h('section', { class: 'panel', 'aria-labelledby': 'rec-d' }, h('h2', { id: 'rec-d' }, 'Days'), daysBox);
  const playerPanel = h('section', { class: 'panel', 'aria-labelledby': 'rec-p' }, h('h2', { id: 'rec-p' }, 'Playback'), playerBox);
  main.append(
    h('h1', {}, 'Recordings'),
    h('div', { class: 'cols' },
      h('div', {},
        h('section', { class: 'panel', 'aria-labelledby': 'rec-s' }, h('h2', { id: 'rec-s' }, 'Streams'), streamsBox),
        daysPanel),
      playerPanel),
  );
  clear(daysBox, h('p', { class: 'muted' }, 'Choose a stream.'));
  clear(playerBox, h('p', { class: 'muted' }, 'Choose a day.'));

  async function loadStreams() {
    let names;
    try {
      names = await getJson('/api/playback');
    } catch (e) {
      clear(streamsBox, missingRoute(e)
        ? emptyState('Recording is not available on this server', 'GET /api/playback answered 404: this server has no recordings index. See docs/dashboard.md.')
        : e.status === 503
          ? emptyState('Recording is off on this server', e.serverMessage)
          : errorBox(e, 'Cannot list recorded streams'));
      daysPanel.hidden = playerPanel.hidden = true;
      return;
    }
    if (!names.length) {
      clear(streamsBox, emptyState('No recordings yet', 'Start a recording from the Streams page; it appears here once its first segment is written.'));
      daysPanel.hidden = playerPanel.hidden = true;
      return;
    }
    const sel = h('select', { id: 'rec-stream' }, h('option', { value: '' }, 'choose…'), names.map((n) => h('option', { value: n, selected: n === params.get('stream') || names.length === 1 }, n)));
    sel.addEventListener('change', () => loadDays(sel.value));
    clear(streamsBox, field('Stream', sel));
    if (sel.value) loadDays(sel.value);
  }

  async function loadDays(stream) {
    stopPlayer();
    clear(playerBox, h('p', { class: 'muted' }, 'Choose a day.'));
    if (!stream) return clear(daysBox, h('p', { class: 'muted' }, 'Choose a stream.'));
    let days;
    try {
      days = await getJson(`/api/playback/${enc(stream)}`);
    } catch (e) {
      return clear(daysBox, errorBox(e, `Cannot list the days of ${stream}`));
    }
    if (!days.length) return clear(daysBox, emptyState(`No recorded day for ${stream}`));
    days.sort((a, b) => a.year - b.year || a.month - b.month || a.day - b.day);
    const months = new Map();
    for (const d of days) {
      const k = `${d.year}-${pad(d.month)}`;
      (months.get(k) || months.set(k, []).get(k)).push(d);
    }
    clear(daysBox, [...months.entries()].reverse().map(([k, ds]) => calendar(stream, k, ds)));
  }

  function calendar(stream, key, days) {
    const [y, m] = key.split('-').map(Number);
    const first = new Date(Date.UTC(y, m - 1, 1));
    const lead = (first.getUTCDay() + 6) % 7; // Monday first
    const count = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const cells = [];
    for (let i = 0; i < lead; i++) cells.push(h('span', { 'aria-hidden': 'true' }));
    for (let d = 1; d <= count; d++) {
      const rec = days.find((x) => x.day === d);
      cells.push(rec
        ? h('button', { type: 'button', 'aria-pressed': 'false', 'aria-label': `${stream}, ${y}-${pad(m)}-${pad(d)}`, onclick: (ev) => {
          for (const b of daysBox.querySelectorAll('button[aria-pressed]')) b.setAttribute('aria-pressed', 'false');
          ev.currentTarget.setAttribute('aria-pressed', 'true');
          playDay(stream, rec);
        } }, String(d))
        : h('span', { class: 'day' }, String(d)));
    }
    const name = first.toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
    return h('div', { class: 'month' }, h('h3', {}, name), h('div', { class: 'calendar', role: 'group', 'aria-label': name }, DOW.map((d) => h('span', { class: 'dow', 'aria-hidden': 'true' }, d)), cells));
  }

  function stopPlayer() {
    if (player) {
      try {
        player.reset();
      } catch {}
      player = null;
    }
  }

  async function playDay(stream, d) {
    stopPlayer();
    const mpd = `/api/record/object/${d.mpd_path.split('/').map(enc).join('/')}`;
    const exportUrl = `/api/record/export/${enc(stream)}/${d.year}/${pad(d.month)}/${pad(d.day)}${auth.query()}`;
    const video = h('video', { id: 'rec-video', controls: true, muted: true, playsInline: true, 'aria-label': `Recording of ${stream}` });
    const err = h('div', { 'aria-live': 'polite' });
    clear(playerBox,
      h('p', {}, `${stream} · ${d.year}-${pad(d.month)}-${pad(d.day)} (UTC)`),
      video, err,
      h('div', { class: 'row actions' },
        h('a', { class: 'button', href: exportUrl, download: `${stream}-${d.year}${pad(d.month)}${pad(d.day)}.mp4` }, 'Download MP4'),
        h('a', { class: 'button secondary', href: `${mpd}${auth.query()}` }, 'Manifest (MPD)')));
    checkCodecs(mpd, err);
    let dashjs;
    try {
      dashjs = await import('/dashboard/vendor/dash.all.min.js');
    } catch (e) {
      err.append(errorBox(e, 'Cannot load the DASH player'));
      return;
    }
    const p = (dashjs.MediaPlayer || dashjs.default.MediaPlayer)().create();
    const token = auth.token;
    if (token) {
      p.addRequestInterceptor((req) => {
        if (new URL(req.url, location.href).origin === location.origin) req.headers = { ...(req.headers || {}), Authorization: `Bearer ${token}` };
        return Promise.resolve(req);
      });
    }
    p.on('error', (ev) => {
      const e = ev && ev.error ? ev.error : ev;
      err.replaceChildren(errorBox(`Playback failed: ${e && e.message ? e.message : JSON.stringify(e)} (manifest ${mpd})`));
    });
    p.initialize(video, mpd, true);
    player = p;
  }

  /** Warns when this browser's Media Source cannot decode a recorded video codec. */
  async function checkCodecs(mpd, box) {
    if (!window.MediaSource) return;
    try {
      const res = await fetch(mpd, { headers: auth.token ? { Authorization: `Bearer ${auth.token}` } : {} });
      if (!res.ok) return; // dash.js reports it
      const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
      const bad = new Set();
      for (const as of doc.getElementsByTagName('AdaptationSet')) {
        const mime = as.getAttribute('mimeType') || '';
        for (const r of as.getElementsByTagName('Representation')) {
          const type = r.getAttribute('mimeType') || mime;
          const codecs = r.getAttribute('codecs') || as.getAttribute('codecs');
          if (type.startsWith('video/') && codecs && !MediaSource.isTypeSupported(`${type}; codecs="${codecs}"`)) bad.add(codecs);
        }
      }
      if (bad.size) {
        box.append(h('div', { class: 'alert error', role: 'alert', id: 'rec-codec-warning' },
          `This browser cannot play ${[...bad].join(', ')} video from a DASH recording (its Media Source has no support for it, e.g. H265 without a hardware decoder), so only the audio plays. `,
          'Use Download MP4 with a desktop player (VLC, ffplay), or publish H264, VP8 or VP9 for recordings that play in every browser.'));
      }
    } catch {}
  }

  loadStreams();
  return stopPlayer;
}
