// SOPilot's web page: one script, no framework, no external file. It talks
// to the same REST API as every other client, with the token the user signs
// in with (kept for the browser tab only, in sessionStorage). Pages are hash
// routes: #/tasks, #/task/ID, #/task/ID/sop, #/score/ID, #/history.
'use strict';

const state = { token: sessionStorage.getItem('sopilot.token') || '', jobs: [], blobs: new Map() };
const COLOURS = { ok: '#43a047', missing: '#d32f2f', skipped: '#9e9e9e', deviation: '#ef6c00',
                  over_time: '#d9a60c', out_of_order: '#8545ad' };
const WORDS = { ok: 'done as the gold', missing: 'not done', skipped: 'optional, not done',
                deviation: 'done unlike the gold', over_time: 'over time', out_of_order: 'out of order' };

// ---------------------------------------------------------------- helpers

// Builds an element; text children become text nodes (never markup).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
// m:ss.s, as the CLI and the reports print times (base/time_code.h): the
// tenths carry into the minute (59.97 s is 1:00.0, not 0:60.0).
function clock(sec) {
  if (sec === null || sec === undefined) return '-';
  if (!(sec > 0)) sec = 0;
  let m = Math.floor(sec / 60);
  let s = (sec - 60 * m).toFixed(1).padStart(4, '0');
  if (s === '60.0') { m += 1; s = '00.0'; }
  return `${m}:${s}`;
}
function span(t) { return t ? `${clock(t.start_sec)}-${clock(t.end_sec)}` : '-'; }
function say(text, error) {
  const box = document.getElementById('status');
  box.replaceChildren(text ? h('div', { class: error ? 'msg error' : 'msg' }, text) : '');
}
function view(...children) {
  const main = document.getElementById('view');
  main.replaceChildren(...children);
  // A new page: keyboard and screen-reader users start at its top.
  main.focus({ preventScroll: true });
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = {};
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const r = await fetch(path, { method, headers, body: payload });
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (r.status === 401) { location.hash = '#/login'; throw new ApiError(401, 'Please sign in.'); }
  if (!r.ok) throw new ApiError(r.status, (data && data.error) || r.statusText);
  return data;
}

// A protected file (a video, a report) as an object URL: a <video> or a new
// tab cannot send the Authorization header itself.
async function fileUrl(path) {
  if (state.blobs.has(path)) return state.blobs.get(path);
  const headers = state.token ? { Authorization: 'Bearer ' + state.token } : {};
  const r = await fetch(path, { headers });
  if (!r.ok) throw new ApiError(r.status, `${path}: ${r.status}`);
  const url = URL.createObjectURL(await r.blob());
  state.blobs.set(path, url);
  return url;
}

function guard(fn) {
  return async (...args) => {
    try { await fn(...args); } catch (e) { if (e.status !== 401) say(e.message, true); else say(e.message, true); }
  };
}

// ---------------------------------------------------------------- sign in

function showLogin() {
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'current-password', value: state.token });
  const form = h('form', { id: 'login', onsubmit: guard(async (ev) => {
    ev.preventDefault();
    state.token = input.value.trim();
    sessionStorage.setItem('sopilot.token', state.token);
    await api('GET', '/tasks');
    say('Signed in.');
    location.hash = '#/tasks';
  }) },
    h('label', { for: 'token' }, 'Access token'), input,
    h('p', { class: 'muted' }, 'Your viewer, operator or admin token. Leave it empty when the server runs without credentials (loopback only).'),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  view(h('h1', {}, 'Sign in'), h('div', { class: 'card' }, form));
  input.focus();
}

// ---------------------------------------------------------------- tasks

function uploadForm(taskId) {
  const file = h('input', { type: 'file', id: 'upload-file', accept: 'video/*', required: true });
  const task = h('input', { type: 'text', id: 'upload-task', value: taskId || '', required: true });
  const role = h('select', { id: 'upload-role' }, h('option', { value: 'trainee' }, 'trainee'), h('option', { value: 'gold' }, 'gold'));
  const op = h('input', { type: 'text', id: 'upload-operator' });
  const site = h('input', { type: 'text', id: 'upload-site' });
  const camera = h('input', { type: 'text', id: 'upload-camera' });
  const bar = h('progress', { id: 'upload-progress', max: 100, value: 0, hidden: true });
  const form = h('form', { id: 'upload', onsubmit: (ev) => {
    ev.preventDefault();
    if (!file.files.length) return say('Choose a video file first.', true);
    const fd = new FormData();
    fd.append('file', file.files[0]);
    fd.append('task_id', task.value.trim());
    fd.append('role', role.value);
    for (const [k, el] of [['operator_id_hash', op], ['site_id', site], ['camera_id', camera]]) if (el.value.trim()) fd.append(k, el.value.trim());
    // XMLHttpRequest: fetch cannot report upload progress.
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/videos');
    if (state.token) xhr.setRequestHeader('Authorization', 'Bearer ' + state.token);
    bar.hidden = false;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      // 202 Accepted: the ingest is queued (its Location is the job to poll).
      if (xhr.status < 200 || xhr.status > 299) return say((data && data.error) || `upload failed (${xhr.status})`, true);
      bar.value = 100;
      say(`Uploaded ${file.files[0].name}; ingesting.`);
      track({ kind: 'ingest', id: data.ingest_job_id, label: file.files[0].name, status: data.status });
      form.reset();
      task.value = taskId || data.task_id;
    };
    xhr.onerror = () => say('upload failed: the server could not be reached', true);
    xhr.send(fd);
  } },
    h('div', { class: 'form-row' },
      h('div', {}, h('label', { for: 'upload-file' }, 'Video file'), file),
      h('div', {}, h('label', { for: 'upload-task' }, 'Task'), task),
      h('div', {}, h('label', { for: 'upload-role' }, 'Role'), role)),
    h('div', { class: 'form-row' },
      h('div', {}, h('label', { for: 'upload-operator' }, 'Operator (id hash)'), op),
      h('div', {}, h('label', { for: 'upload-site' }, 'Site'), site),
      h('div', {}, h('label', { for: 'upload-camera' }, 'Camera'), camera)),
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Upload')), bar);
  return h('section', { class: 'card' }, h('h2', {}, 'Upload a video'), form);
}

// Jobs of this tab, polled until they finish (queued -> running -> done).
function track(job) {
  state.jobs.unshift(job);
  renderJobs();
  poll(job);
}
async function poll(job) {
  const path = job.kind === 'ingest' ? `/videos/jobs/${job.id}` : `/score/${job.id}`;
  while (job.status === 'queued' || job.status === 'running' || !job.status) {
    await new Promise((r) => setTimeout(r, 700));
    try {
      const j = await api('GET', path);
      job.status = j.status;
      job.error = j.error_message;
      if (j.video_id) job.video_id = j.video_id;
    } catch (e) { job.status = 'unknown'; job.error = e.message; }
    renderJobs();
  }
  if (job.kind === 'ingest' && job.status === 'completed' && job.onDone) job.onDone();
  if (job.kind === 'ingest' && job.status === 'completed' && location.hash.startsWith('#/task/')) route();
}
function renderJobs() {
  const box = document.getElementById('jobs');
  if (!box) return;
  box.replaceChildren(...state.jobs.map((j) => h('li', { dataset: { job: j.id, status: j.status || '' } },
    `${j.kind} ${j.label}: `, h('strong', { class: 'job-status' }, j.status || 'queued'),
    j.error ? h('span', { class: 'muted' }, ` (${j.error})`) : '',
    j.kind === 'score' && j.status === 'completed' ? [' ', h('a', { href: `#/score/${j.id}` }, 'open the result')] : '')));
}

async function showTasks() {
  const data = await api('GET', '/tasks');
  const rows = data.items.map((t) => h('tr', {},
    h('td', {}, h('a', { href: `#/task/${encodeURIComponent(t.task_id)}` }, t.task_id)),
    h('td', {}, t.gold_videos), h('td', {}, t.sop_version === null ? 'none yet' : `version ${t.sop_version}`)));
  view(h('h1', {}, 'Tasks'),
    rows.length ? h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Task'), h('th', {}, 'Gold videos'), h('th', {}, 'SOP'))), h('tbody', {}, rows))
      : h('p', {}, 'No task yet: upload a gold video to start one.'),
    uploadForm(''), h('h2', {}, 'Jobs'), h('ul', { id: 'jobs', class: 'jobs' }));
  renderJobs();
}

async function showTask(taskId) {
  const videos = (await api('GET', `/videos?task_id=${encodeURIComponent(taskId)}&limit=500`)).items;
  const golds = videos.filter((v) => v.role === 'gold');
  const goldSelect = h('select', { id: 'score-gold' }, golds.map((g) => h('option', { value: g.video_id }, `${g.file_name} (video ${g.video_id})`)),
    golds.length > 1 && h('option', { value: 'closest' }, 'each of them: the closest one'));
  const rows = videos.map((v) => h('tr', { dataset: { video: v.video_id } },
    h('td', {}, v.video_id), h('td', {}, v.role), h('td', {}, v.file_name), h('td', {}, v.operator_id_hash || '-'),
    h('td', {}, `${v.duration_sec.toFixed(1)} s`), h('td', {}, v.created_at || ''),
    h('td', {}, v.role === 'trainee' && golds.length ? h('button', { type: 'button', class: 'score', onclick: guard(async () => {
      const job = await api('POST', '/score', goldSelect.value === 'closest'
        ? { trainee_video_id: v.video_id, gold_selection: 'closest' }
        : { gold_video_id: Number(goldSelect.value), trainee_video_id: v.video_id });
      say(`Scoring ${v.file_name}.`);
      track({ kind: 'score', id: job.score_job_id, label: v.file_name, status: job.status });
    }) }, 'Score') : '')));
  view(h('h1', {}, `Task ${taskId}`),
    h('p', {}, h('a', { href: `#/task/${encodeURIComponent(taskId)}/sop`, id: 'edit-sop' }, 'Steps (SOP editor)'), ' · ',
      h('a', { href: `#/history?task_id=${encodeURIComponent(taskId)}` }, 'History and statistics')),
    golds.length ? h('p', {}, h('label', { for: 'score-gold' }, 'Score trainee videos against'), goldSelect) : h('p', {}, 'Upload a gold video first.'),
    h('table', { id: 'videos' }, h('thead', {}, h('tr', {}, ['Id', 'Role', 'File', 'Operator', 'Length', 'Uploaded', ''].map((c) => h('th', {}, c)))), h('tbody', {}, rows)),
    uploadForm(taskId), h('h2', {}, 'Jobs'), h('ul', { id: 'jobs', class: 'jobs' }));
  renderJobs();
}

// ---------------------------------------------------------------- SOP editor

async function showSop(taskId) {
  const sop = await api('GET', `/tasks/${encodeURIComponent(taskId)}/sop`);
  const video = h('video', { id: 'sop-video', controls: true, preload: 'auto' });
  fileUrl(`/videos/${sop.gold_video_id}/file`).then((u) => { video.src = u; }).catch((e) => say(e.message, true));
  const tbody = h('tbody', {});
  // To the hundredth, as the service gives step times: rounded to a tenth, a
  // start taken at a found boundary (4.14 s) fell before the previous step's
  // end and the save was refused.
  const now = () => Math.round(video.currentTime * 100) / 100;
  function row(step) {
    const name = h('input', { type: 'text', class: 'step-name', value: step.name, 'aria-label': 'Step name' });
    const start = h('input', { type: 'number', class: 'step-start', step: '0.01', min: '0', value: step.start_sec, 'aria-label': 'Start (s)' });
    const end = h('input', { type: 'number', class: 'step-end', step: '0.01', min: '0', value: step.end_sec, 'aria-label': 'End (s)' });
    const critical = h('input', { type: 'checkbox', class: 'step-critical', checked: !!step.critical, 'aria-label': 'Critical' });
    const optional = h('input', { type: 'checkbox', class: 'step-optional', checked: !!step.optional, 'aria-label': 'Optional' });
    const group = h('input', { type: 'text', class: 'step-group', value: step.any_order_group || '', 'aria-label': 'Any-order group' });
    const tolerance = h('input', { type: 'number', class: 'step-tolerance', step: '0.05', min: '0', value: step.time_tolerance ?? '', 'aria-label': 'Time tolerance' });
    const description = h('textarea', { class: 'step-description', rows: 1, 'aria-label': 'Description' }, step.description || '');
    const tr = h('tr', { class: 'step' },
      h('td', {}, name, description),
      h('td', { class: 'times' }, start, h('button', { type: 'button', class: 'set-start', title: 'Start at the video\'s current time', onclick: () => { start.value = now(); } }, 'now'), ' – ',
        end, h('button', { type: 'button', class: 'set-end', title: 'End at the video\'s current time', onclick: () => { end.value = now(); } }, 'now'),
        h('button', { type: 'button', class: 'play', onclick: () => { video.currentTime = Number(start.value); video.play(); } }, 'play')),
      h('td', {}, critical), h('td', {}, optional), h('td', {}, group), h('td', {}, tolerance),
      h('td', {}, h('button', { type: 'button', class: 'remove', onclick: () => tr.remove() }, 'remove')));
    tr.read = () => {
      const s = { name: name.value.trim(), start_sec: Number(start.value), end_sec: Number(end.value) };
      if (critical.checked) s.critical = true;
      if (optional.checked) s.optional = true;
      if (group.value.trim()) s.any_order_group = group.value.trim();
      if (tolerance.value !== '') s.time_tolerance = Number(tolerance.value);
      if (description.value.trim()) s.description = description.value.trim();
      return s;
    };
    return tr;
  }
  for (const s of sop.steps) tbody.append(row(s));
  const heading = sop.draft ? 'Draft: the steps found in the gold video (not saved yet)'
                            : `Version ${sop.version}, saved by ${sop.created_by} at ${sop.created_at}`;
  const save = guard(async () => {
    const steps = [...tbody.querySelectorAll('tr.step')].map((tr) => tr.read());
    const saved = await api('PUT', `/tasks/${encodeURIComponent(taskId)}/sop`, { gold_video_id: sop.gold_video_id, steps });
    say(`Saved as version ${saved.version}.`);
    document.getElementById('sop-version').textContent = `Version ${saved.version}, saved by ${saved.created_by} at ${saved.created_at}`;
  });
  // Names only: the service places them in the gold video and saves the
  // times it found (doc/scoring.md, "Named steps"); the editor then shows them.
  const place = guard(async () => {
    const steps = [...tbody.querySelectorAll('tr.step')].map((tr) => {
      const s = tr.read();
      delete s.start_sec;
      delete s.end_sec;
      return s;
    });
    const saved = await api('PUT', `/tasks/${encodeURIComponent(taskId)}/sop`, { gold_video_id: sop.gold_video_id, steps });
    await showSop(taskId);
    say(`Placed ${saved.steps.length} steps in the gold video; saved as version ${saved.version}.`);
  });
  view(h('h1', {}, `Steps of ${taskId}`), h('p', { id: 'sop-version', class: 'muted' }, heading),
    h('div', { class: 'players' }, h('figure', {}, video, h('figcaption', {}, `Gold video ${sop.gold_video_id}: scrub to a moment, then press "now" to set a time`))),
    h('table', { class: 'steps-editor' }, h('thead', {}, h('tr', {}, ['Step', 'Gold time (s)', 'Critical', 'Optional', 'Any-order group', 'Time tolerance', ''].map((c) => h('th', {}, c)))), tbody),
    h('p', {}, h('button', { type: 'button', id: 'add-step', onclick: () => {
      const t = now();
      tbody.append(row({ name: `step ${tbody.children.length + 1}`, start_sec: t, end_sec: Math.round((t + 2) * 100) / 100 }));
    } }, 'Add a step at the current time'), ' ',
    h('button', { type: 'button', id: 'place-steps', title: 'Keep the names, order and rules; find where each step is in the gold video', onclick: place }, 'Place these steps in the gold video'), ' ',
    h('button', { type: 'button', id: 'save-sop', class: 'primary', onclick: save }, 'Save')));
}

// ---------------------------------------------------------------- a score

function timeline(result, onSeek) {
  const steps = result.steps || [];
  const ends = [1];
  for (const s of steps) { if (s.gold_time) ends.push(s.gold_time.end_sec); if (s.trainee_time) ends.push(s.trainee_time.end_sec); }
  for (const d of result.deviations || []) if (d.trainee_time) ends.push(d.trainee_time.end_sec);
  for (const i of result.idle || []) ends.push(i.trainee_time.end_sec);
  for (const i of result.gold_idle || []) ends.push(i.gold_time.end_sec);
  const total = Math.max(...ends);
  const X = (t) => 90 + 900 * t / total;
  const g = svg('svg', { class: 'timeline', viewBox: '0 0 1000 92', role: 'img', 'aria-label': 'Step timeline: gold lane above, trainee lane below' });
  [['gold', 8], ['trainee', 46]].forEach(([lane, y]) => {
    g.append(svg('text', { x: 0, y: y + 19 }, lane), svg('rect', { x: 90, y, width: 900, height: 28, fill: '#f1f1f1' }));
    for (const i of lane === 'trainee' ? result.idle || [] : result.gold_idle || []) {
      const t = lane === 'trainee' ? i.trainee_time : i.gold_time;
      g.append(svg('rect', { class: 'idle', x: X(t.start_sec), y, width: Math.max(1, X(t.end_sec) - X(t.start_sec)), height: 28, fill: '#d9d9d9' },
        svg('title', {}, `idle ${span(t)}${lane === 'gold' ? ' (no step)' : ''}`)));
    }
    for (const s of steps) {
      const t = lane === 'gold' ? s.gold_time : s.trainee_time;
      if (!t) continue;
      const status = lane === 'gold' ? (s.status === 'missing' || s.status === 'skipped' ? s.status : 'ok') : s.status;
      g.append(svg('rect', { class: 'step', x: X(t.start_sec), y, width: Math.max(1, X(t.end_sec) - X(t.start_sec) - 1), height: 28,
        fill: COLOURS[status] || '#777', onclick: () => onSeek(s.gold_time && s.gold_time.start_sec, s.trainee_time && s.trainee_time.start_sec) },
        svg('title', {}, `${s.index + 1} ${s.name}: ${WORDS[s.status] || s.status} (${span(t)})`)),
        svg('text', { class: 'n', x: (X(t.start_sec) + X(t.end_sec)) / 2, y: y + 19 }, s.index + 1));
    }
  });
  return g;
}

async function showScore(id) {
  const job = await api('GET', `/score/${encodeURIComponent(id)}`);
  if (job.status !== 'completed') {
    view(h('h1', {}, 'Score'), h('p', {}, `This score is ${job.status}.`, job.error_message ? ` ${job.error_message}` : ''));
    if (job.status === 'queued' || job.status === 'running') setTimeout(() => { if (location.hash === `#/score/${id}`) route(); }, 1000);
    return;
  }
  const r = job.result;
  const gold = h('video', { id: 'gold-video', controls: true, preload: 'auto', muted: true });
  const trainee = h('video', { id: 'trainee-video', controls: true, preload: 'auto', muted: true });
  if (job.gold_video_id) fileUrl(`/videos/${job.gold_video_id}/file`).then((u) => { gold.src = u; }).catch(() => {});
  if (job.trainee_video_id) fileUrl(`/videos/${job.trainee_video_id}/file`).then((u) => { trainee.src = u; }).catch(() => {});
  // Both videos to their time codes, side by side.
  const seek = (g, t) => {
    for (const [v, at] of [[gold, g], [trainee, t]]) {
      if (at === undefined || at === null) { v.pause(); continue; }
      const go = () => { v.currentTime = at; v.play().catch(() => {}); };
      if (v.readyState >= 1) go(); else v.addEventListener('loadedmetadata', go, { once: true });
    }
  };
  const devs = (r.deviations || []).map((d, i) => h('li', {}, h('button', {
    type: 'button', class: d.critical ? 'deviation critical' : 'deviation',
    dataset: { index: i, gold: d.gold_time ? d.gold_time.start_sec : '', trainee: d.trainee_time ? d.trainee_time.start_sec : '' },
    onclick: () => seek(d.gold_time && d.gold_time.start_sec, d.trainee_time && d.trainee_time.start_sec) },
    h('span', { class: 'type' }, `${i + 1}. ${d.type}`), d.gold_step_name ? ` — "${d.gold_step_name}"` : '',
    d.swapped_with ? ` and "${d.swapped_with.gold_step_name}"` : '', d.critical ? ' (critical step)' : '', h('br'),
    h('span', { class: 'times' }, `gold ${span(d.gold_time)} · trainee ${span(d.trainee_time)} · ${d.severity}, −${d.penalty} points`), h('br'),
    d.reason)));
  const openReport = (kind) => guard(async () => { window.open(await fileUrl(`/score/${id}/report.${kind}`), '_blank'); });
  view(h('h1', {}, `Score of ${job.task_id || ''}`),
    h('p', {}, h('span', { id: 'verdict', class: `verdict ${r.verdict}` }, `${Number(r.score).toFixed(1)} · ${r.verdict}`),
      ' ', r.sop_version ? `SOP version ${r.sop_version}` : 'steps found in the gold video'),
    r.gold_candidates ? h('p', { id: 'gold-candidates' }, `Against the closest of ${r.gold_candidates.length} gold videos: `,
      r.gold_candidates.map((c) => `video ${c.gold_video_id} ${c.score === null ? `not scored (${c.error})` : Number(c.score).toFixed(1)}`).join(', ')) : '',
    r.verdict_reason ? h('p', { id: 'verdict-reason' }, h('strong', {}, 'Verdict: '), r.verdict_reason) : '',
    h('p', {}, h('button', { type: 'button', id: 'report-pdf', onclick: openReport('pdf') }, 'Report (PDF)'), ' ',
      h('button', { type: 'button', id: 'report-html', onclick: openReport('html') }, 'Report (page)')),
    h('h2', {}, 'Step timeline'), timeline(r, seek),
    h('p', { class: 'legend' }, Object.entries(WORDS).map(([k, w]) => h('span', {}, h('i', { style: `background:${COLOURS[k]}` }), w))),
    h('div', { class: 'players' }, h('figure', {}, gold, h('figcaption', {}, `Gold (video ${job.gold_video_id})`)),
      h('figure', {}, trainee, h('figcaption', {}, `Trainee (video ${job.trainee_video_id})`))),
    h('h2', {}, devs.length ? `Deviations (${devs.length}) — choose one to play both videos from it` : 'No deviations'),
    h('ul', { class: 'deviations' }, devs));
}

// ---------------------------------------------------------------- history

function trendChart(operators) {
  const W = 1000, H = 220, palette = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#5d4037'];
  const longest = Math.max(2, ...operators.map((o) => o.trend.length));
  const g = svg('svg', { class: 'timeline', id: 'trend', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Score trend per operator' });
  for (const v of [0, 50, 100]) {
    const y = 10 + (H - 40) * (1 - v / 100);
    g.append(svg('line', { x1: 40, x2: W - 10, y1: y, y2: y, stroke: '#ddd' }), svg('text', { x: 5, y: y + 4 }, v));
  }
  operators.forEach((o, k) => {
    const pts = o.trend.map((p, i) => `${40 + (W - 60) * i / (longest - 1)},${10 + (H - 40) * (1 - p.score / 100)}`).join(' ');
    g.append(svg('polyline', { points: pts, fill: 'none', stroke: palette[k % palette.length], 'stroke-width': 3 },
      svg('title', {}, `${o.operator_id_hash || '(no operator)'}: ${o.scores} scores, pass rate ${(100 * o.pass_rate).toFixed(0)} %`)));
    // A dot per score, so that one score alone shows too.
    o.trend.forEach((p, i) => g.append(svg('circle', { cx: 40 + (W - 60) * i / (longest - 1), cy: 10 + (H - 40) * (1 - p.score / 100),
      r: 5, fill: palette[k % palette.length] }, svg('title', {}, `${p.finished_at}: ${Number(p.score).toFixed(1)} (${p.verdict})`))));
    g.append(svg('text', { x: 45 + 150 * k, y: H - 5, fill: palette[k % palette.length] }, o.operator_id_hash || '(no operator)'));
  });
  return g;
}

async function showHistory(params) {
  const fields = ['task_id', 'operator_id_hash', 'site_id', 'camera_id', 'verdict', 'since', 'until'];
  const inputs = {};
  const tasks = (await api('GET', '/tasks')).items;
  inputs.task_id = h('select', { id: 'f-task_id' }, h('option', { value: '' }, 'all'), tasks.map((t) => h('option', { value: t.task_id, selected: params.get('task_id') === t.task_id }, t.task_id)));
  inputs.verdict = h('select', { id: 'f-verdict' }, ['', 'pass', 'needs_review', 'fail'].map((v) => h('option', { value: v, selected: params.get('verdict') === v }, v || 'any')));
  for (const f of ['operator_id_hash', 'site_id', 'camera_id']) inputs[f] = h('input', { type: 'text', id: `f-${f}`, value: params.get(f) || '' });
  for (const f of ['since', 'until']) inputs[f] = h('input', { type: 'date', id: `f-${f}`, value: params.get(f) || '' });
  const labels = { task_id: 'Task', operator_id_hash: 'Operator', site_id: 'Site', camera_id: 'Camera', verdict: 'Verdict', since: 'From', until: 'To' };
  const form = h('form', { id: 'history-filters', onsubmit: (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const f of fields) if (inputs[f].value) q.set(f, inputs[f].value);
    location.hash = `#/history?${q}`;
  } }, h('div', { class: 'form-row' }, fields.map((f) => h('div', {}, h('label', { for: `f-${f}` }, labels[f]), inputs[f]))),
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Show')));
  const tbody = h('tbody', { id: 'history-rows' });
  const more = h('button', { type: 'button', id: 'more', hidden: true }, 'More');
  const query = new URLSearchParams();
  for (const f of fields) if (params.get(f)) query.set(f, params.get(f));
  let cursor = null;
  const load = guard(async () => {
    const q = new URLSearchParams(query);
    if (cursor) q.set('cursor', cursor);
    const page = await api('GET', `/scores?${q}`);
    for (const s of page.items) {
      tbody.append(h('tr', {}, h('td', {}, s.finished_at), h('td', {}, s.task_id), h('td', {}, s.operator_id_hash || '-'),
        h('td', {}, s.site_id || '-'), h('td', {}, s.score === null ? '-' : Number(s.score).toFixed(1)),
        h('td', {}, h('span', { class: `verdict ${s.verdict}`, style: 'font-size:.9rem;padding:.1rem .4rem' }, s.verdict)),
        h('td', {}, s.deviations), h('td', {}, h('a', { href: `#/score/${s.score_job_id}` }, 'open'))));
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
  });
  more.addEventListener('click', load);
  const parts = [h('h1', {}, 'History'), h('section', { class: 'card' }, form),
    h('table', {}, h('thead', {}, h('tr', {}, ['Finished', 'Task', 'Operator', 'Site', 'Score', 'Verdict', 'Deviations', ''].map((c) => h('th', {}, c)))), tbody), h('p', {}, more)];
  if (params.get('task_id')) {
    const stats = await api('GET', `/tasks/${encodeURIComponent(params.get('task_id'))}/stats`);
    parts.push(h('h2', {}, `Statistics of ${stats.task_id}`),
      h('p', { id: 'stats-summary' }, `${stats.scores} score${stats.scores === 1 ? '' : 's'}; pass rate ${stats.pass_rate === null ? '-' : (100 * stats.pass_rate).toFixed(0) + ' %'}; mean score ${stats.mean_score === null ? '-' : stats.mean_score.toFixed(1)}`),
      h('table', { id: 'step-stats' }, h('thead', {}, h('tr', {}, ['Step', 'Missed', 'Done wrongly', 'Over time', 'Median time vs gold'].map((c) => h('th', {}, c)))),
        h('tbody', {}, stats.steps.map((s) => h('tr', {}, h('td', {}, s.name), h('td', {}, `${s.missing} of ${s.scored}`), h('td', {}, s.deviation), h('td', {}, s.over_time),
          h('td', {}, s.median_duration_ratio === null ? '-' : `${(100 * s.median_duration_ratio).toFixed(0)} %`))))),
      h('h2', {}, 'Trend per operator'), trendChart(stats.operators));
  }
  view(...parts);
  await load();
}

// ---------------------------------------------------------------- routing

async function route() {
  say('');
  const hash = location.hash || '#/tasks';
  const [path, query] = hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === 'login') return showLogin();
    if (parts[0] === 'task' && parts[2] === 'sop') return await showSop(parts[1]);
    if (parts[0] === 'task') return await showTask(parts[1]);
    if (parts[0] === 'score') return await showScore(parts[1]);
    if (parts[0] === 'history') return await showHistory(new URLSearchParams(query || ''));
    return await showTasks();
  } catch (e) {
    if (e.status !== 401) say(e.message, true);
  }
}

document.getElementById('signout').addEventListener('click', () => {
  state.token = '';
  sessionStorage.removeItem('sopilot.token');
  for (const url of state.blobs.values()) URL.revokeObjectURL(url);
  state.blobs.clear();
  location.hash = '#/login';
});
window.addEventListener('hashchange', route);
route();
