// Publish: the camera or a screen via WHIP from this browser, with a codec choice
// and a simulcast toggle (three layers q/h/f). The publisher stays on air while
// the operator visits other pages (the header shows it) until Stop.

import { h, clear, errorBox, field, kv, fmtBits, infoBox } from '../ui.js';
import { onAir, publish, sendableCodecs, sample } from '../webrtc.js';

export const title = 'Publish';

export function render(main, params) {
  let prev = null;
  let timer = null;
  const streamIn = h('input', { type: 'text', id: 'pub-stream', value: params.get('stream') || 'camera01', required: true, maxlength: 256 });
  const source = h('select', { id: 'pub-source' }, h('option', { value: 'camera' }, 'Camera and microphone'), h('option', { value: 'screen' }, 'Screen (or a window)'));
  const codecs = sendableCodecs();
  const codec = h('select', { id: 'pub-codec' }, codecs.map((c) => h('option', { value: c }, c)));
  const audio = h('input', { type: 'checkbox', id: 'pub-audio', checked: true });
  const simulcast = h('input', { type: 'checkbox', id: 'pub-simulcast' });
  const startBtn = h('button', { type: 'submit' }, 'Start publishing');
  const stopBtn = h('button', { type: 'button', class: 'danger', onclick: stop }, 'Stop');
  const status = h('div', { id: 'pub-status', 'aria-live': 'polite' });
  const video = h('video', { id: 'pub-video', autoplay: true, muted: true, playsInline: true, 'aria-label': 'Local preview' });
  const stats = h('div', { id: 'pub-stats' });

  main.append(
    h('h1', {}, 'Publish from this browser'),
    h('div', { class: 'cols' },
      h('div', {},
        h('form', { class: 'panel', onsubmit: (ev) => { ev.preventDefault(); start(); } },
          field('Stream', streamIn),
          field('Source', source),
          field('Video codec', codec, codecs.length ? null : 'This browser reports no video codec that wishcast forwards.'),
          h('label', { class: 'check', for: 'pub-audio' }, audio, 'Send audio'),
          h('label', { class: 'check', for: 'pub-simulcast' }, simulcast, 'Simulcast (3 layers: q ¼, h ½, f full; VP8 or H264 work best)'),
          h('div', { class: 'row actions' }, startBtn, stopBtn)),
        status),
      h('div', {},
        h('div', { class: 'panel' }, video),
        h('section', { class: 'panel', 'aria-labelledby': 'pub-stats-title' }, h('h2', { id: 'pub-stats-title' }, 'Sending'), stats))),
  );
  if (!navigator.mediaDevices) status.append(errorBox('This page is not a secure context: browsers allow the camera only on https:// or on localhost.'));

  function show() {
    const p = onAir.current;
    startBtn.disabled = !!p;
    stopBtn.disabled = !p;
    for (const el of [streamIn, source, codec, audio, simulcast]) el.disabled = !!p;
    if (p) {
      streamIn.value = p.stream;
      source.value = p.source;
      if (p.codec) codec.value = p.codec;
      simulcast.checked = !!p.simulcast;
      if (video.srcObject !== p.media) video.srcObject = p.media;
      if (!timer) updateStats();
      clear(status, infoBox(`On air: ${p.stream} (${p.codec || 'default codec'}${p.simulcast ? ', simulcast' : ''}). Session `, h('code', {}, new URL(p.sessionUrl).pathname)));
      if (!timer) timer = setInterval(updateStats, 1000);
    } else {
      video.srcObject = null;
      clearInterval(timer);
      timer = null;
      clear(stats, h('p', { class: 'muted' }, 'Not publishing.'));
    }
  }

  async function start() {
    startBtn.disabled = true;
    clear(status, h('p', { class: 'muted' }, 'Starting…'));
    try {
      const p = await publish({ stream: streamIn.value.trim(), source: source.value, codec: codec.value, audio: audio.checked, simulcast: simulcast.checked });
      p.pc.addEventListener('connectionstatechange', () => {
        if (onAir.current === p && p.pc.connectionState === 'failed') clear(status, errorBox('The publisher connection failed; press Stop and try again.'));
      });
      prev = null;
      onAir.set(p);
    } catch (e) {
      clear(status, errorBox(e, 'Cannot publish'));
      startBtn.disabled = false;
    }
  }

  async function stop() {
    const err = await onAir.stop();
    if (err) status.append(errorBox(`The server answered the hang-up with ${err}`));
  }

  async function updateStats() {
    const p = onAir.current;
    if (!p) return;
    const s = await sample(p.pc, prev);
    prev = s;
    clear(stats, kv([
      ['Connection', p.pc.connectionState, { 'data-stat': 'connection' }],
      ['Video bitrate', fmtBits(s.videoBps), { 'data-stat': 'videoBitrate' }],
      ['Audio bitrate', fmtBits(s.audioBps)],
      ['Resolution', s.width ? `${s.width}×${s.height}` : '–'],
      ['Frames/s', s.fps != null ? s.fps.toFixed(0) : '–'],
      ['Codec', s.codec || '–', { 'data-stat': 'codec' }],
      ['RTT', s.rttMs != null ? `${s.rttMs.toFixed(0)} ms` : '–'],
    ]), s.outbound.length > 1 ? h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Layer', 'Size', 'Bitrate', 'Limited by'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, s.outbound.map((o) => h('tr', {}, h('td', {}, o.rid), h('td', {}, o.width ? `${o.width}×${o.height}` : '–'), h('td', {}, fmtBits(o.bps)), h('td', {}, o.limit || '–')))))) : null);
  }

  onAir.listeners.add(show);
  show();
  return () => {
    onAir.listeners.delete(show);
    clearInterval(timer);
  };
}
