// Preview: a WHEP player for one stream with live getStats() figures (bitrate,
// fps, resolution, frames decoded, RTT, loss, codec) and, for simulcast streams,
// the current layer and a layer selector (GET/POST /session/{stream}/{id}/layer).
// Leaving the page hangs up (DELETE of the session).

import { getJson, request } from '../api.js';
import { h, clear, keepFocus, errorBox, field, kv, fmtBits, fmtNum, toast } from '../ui.js';
import { play, hangup, sample } from '../webrtc.js';

export const title = 'Preview';

export function render(main, params) {
  let player = null;
  let prev = null;
  let statsTimer = null;
  let layerTimer = null;
  const streamIn = h('input', { type: 'text', id: 'preview-stream', value: params.get('stream') || '', required: true, list: 'preview-streams', autocomplete: 'off' });
  const options = h('datalist', { id: 'preview-streams' });
  const playBtn = h('button', { type: 'submit' }, 'Play');
  const stopBtn = h('button', { type: 'button', class: 'secondary', disabled: true, onclick: stop }, 'Stop');
  const video = h('video', { id: 'preview-video', autoplay: true, muted: true, playsInline: true, controls: true, 'aria-label': 'Preview video' });
  const status = h('div', { 'aria-live': 'polite', id: 'preview-status' });
  const stats = h('div', { id: 'preview-stats' }, h('p', { class: 'muted' }, 'Press Play to watch a stream.'));
  const layers = h('div', { id: 'preview-layers' });

  main.append(
    h('h1', {}, 'Preview'),
    h('div', { class: 'cols' },
      h('div', {},
        h('form', { class: 'panel', onsubmit: (ev) => { ev.preventDefault(); start(); } },
          options,
          field('Stream', streamIn, 'Plays through WHEP on this server, like any viewer.'),
          h('div', { class: 'row actions' }, playBtn, stopBtn)),
        status,
        h('div', { class: 'panel' }, video)),
      h('div', {},
        h('section', { class: 'panel', 'aria-labelledby': 'pv-stats' }, h('h2', { id: 'pv-stats' }, 'Live statistics'), stats),
        h('section', { class: 'panel', 'aria-labelledby': 'pv-layers' }, h('h2', { id: 'pv-layers' }, 'Simulcast layer'), layers))),
  );
  clear(layers, h('p', { class: 'muted' }, 'Shown while playing a simulcast stream.'));

  getJson('/api/streams/').then((ss) => {
    clear(options, ss.map((s) => h('option', { value: s.id })));
    if (!streamIn.value && ss.length === 1) streamIn.value = ss[0].id;
  }).catch(() => {});

  async function start() {
    await stop();
    const stream = streamIn.value.trim();
    if (!stream) return;
    playBtn.disabled = true;
    clear(status, h('p', { class: 'muted' }, `Connecting to ${stream}…`));
    try {
      player = await play(stream, video);
      prev = null;
      stopBtn.disabled = false;
      clear(status, h('p', { class: 'small muted' }, 'Session ', h('code', {}, new URL(player.sessionUrl).pathname)));
      player.pc.addEventListener('connectionstatechange', () => {
        if (player && ['failed', 'closed'].includes(player.pc.connectionState)) clear(status, errorBox(`The connection is ${player.pc.connectionState}.`));
      });
      statsTimer = setInterval(updateStats, 1000);
      updateStats();
      updateLayers();
      layerTimer = setInterval(updateLayers, 2000);
    } catch (e) {
      clear(status, errorBox(e, `Cannot play ${stream}`));
      player = null;
    } finally {
      playBtn.disabled = false;
    }
  }

  async function stop() {
    clearInterval(statsTimer);
    clearInterval(layerTimer);
    if (!player) return;
    const p = player;
    player = null;
    stopBtn.disabled = true;
    const err = await hangup(p.sessionUrl);
    p.pc.close();
    video.srcObject = null;
    if (err) toast(`Hang-up: ${err}`, 'error');
  }

  async function updateStats() {
    if (!player) return;
    const s = await sample(player.pc, prev);
    prev = s;
    clear(stats, kv([
      ['Connection', player.pc.connectionState, { 'data-stat': 'connection' }],
      ['Video bitrate', fmtBits(s.videoBps), { 'data-stat': 'videoBitrate' }],
      ['Audio bitrate', fmtBits(s.audioBps), { 'data-stat': 'audioBitrate' }],
      ['Resolution', s.width ? `${s.width}×${s.height}` : '–', { 'data-stat': 'resolution' }],
      ['Frames/s', s.fps != null ? s.fps.toFixed(0) : '–', { 'data-stat': 'fps' }],
      ['Frames decoded', fmtNum(s.framesDecoded || 0), { 'data-stat': 'framesDecoded', 'data-value': String(s.framesDecoded || 0) }],
      ['Codec', s.codec || '–', { 'data-stat': 'codec' }],
      ['RTT', s.rttMs != null ? `${s.rttMs.toFixed(0)} ms` : '–', { 'data-stat': 'rtt' }],
      ['Loss', `${s.lossPct.toFixed(2)} % (${fmtNum(s.packetsLost)} packets)`, { 'data-stat': 'loss' }],
      ['Jitter', s.jitterMs != null ? `${s.jitterMs.toFixed(1)} ms` : '–', { 'data-stat': 'jitter' }],
    ]));
  }

  async function updateLayers() {
    if (!player) return;
    const p = player;
    // The WHEP answer links the layer resource only when the publisher sends simulcast.
    if (!p.layerUrl) {
      clear(layers, h('p', { class: 'muted' }, 'This stream has a single encoding (no simulcast), so there is no layer to choose.'));
      clearInterval(layerTimer);
      return;
    }
    const url = p.layerUrl;
    let list;
    try {
      list = await (await request('GET', url)).json();
    } catch (e) {
      if (e.status === 404) clear(layers, h('p', { class: 'muted' }, 'The publisher no longer sends simulcast layers.'));
      else clear(layers, errorBox(e));
      return;
    }
    if (p !== player) return;
    const active = list.find((l) => l.active);
    const choose = async (encodingId) => {
      try {
        await request('POST', url, { json: { encodingId } });
        toast(encodingId ? `Layer ${encodingId} forced` : 'Automatic layer choice');
        updateLayers();
      } catch (e) {
        clear(layers, errorBox(e, 'Could not change the layer'));
      }
    };
    keepFocus(layers, () => clear(layers,
      kv([['Current layer', active ? active.encodingId : 'none yet', { 'data-stat': 'layer' }]]),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Layer'), h('th', { scope: 'col', class: 'num' }, 'Bitrate'), h('th', { scope: 'col' }, ''))),
        h('tbody', {}, list.map((l) => h('tr', {},
          h('td', {}, l.encodingId, l.active ? ' (receiving)' : ''),
          h('td', { class: 'num' }, fmtBits(l.bitrate)),
          h('td', {}, h('button', { type: 'button', class: 'secondary small', 'data-key': `force:${l.encodingId}`, onclick: () => choose(l.encodingId), 'aria-label': `Force layer ${l.encodingId}` }, 'Force'))))))),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', 'data-key': 'auto', onclick: () => choose(null) }, 'Automatic'))));
  }

  if (params.get('stream') && params.get('autoplay') !== '0') start();
  return () => {
    stop();
  };
}
