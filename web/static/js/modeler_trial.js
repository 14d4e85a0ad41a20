// The modeler's trial page: choose each gateway's way out (or let the data decide), start the draft in a throwaway
// database, then complete its ready tasks, fire its timers and simulate its messages, watching the path on the
// diagram. Every text comes translated from the page (config.t); the server checks everything.
(() => {
  'use strict';
  const configEl = document.getElementById('trial-config');
  if (!configEl || !document.getElementById('trial-setup')) return;
  const config = JSON.parse(configEl.textContent);
  const api = window.expedienteApi(config.csrf);  // js/json_api.js
  const T = config.t;
  const E = encodeURIComponent(config.key);
  const $ = (id) => document.getElementById(id);
  const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
  const el = (tag, props = {}, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props);
    node.append(...children);
    return node;
  };
  let token = null;
  let viewer = null;
  let marked = [];

  function say(text) { $('trial-status').textContent = text; }

  // A refusal: its message, and each field it names.
  function showErrors(r) {
    const list = $('trial-errors');
    const items = [ (r.data && (r.data.detail || r.data.title)) || fmt(T.error_status, { status: r.status }) ];
    for (const e of (r.data && r.data.errors) || []) items.push(`${e.field ? e.field + ': ' : ''}${e.message}`);
    list.replaceChildren(...items.map((text) => el('li', { textContent: text })));
    list.hidden = false;
  }
  function clearErrors() { $('trial-errors').hidden = true; $('trial-errors').replaceChildren(); }

  function parsed(textarea, what) {
    try {
      const value = JSON.parse(textarea.value || '{}');
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('{…}');
      return value;
    } catch (err) {
      showErrors({ data: { detail: fmt(T.bad_json, { what, error: err.message }) } });
      textarea.focus();
      return null;
    }
  }

  async function setup() {
    const r = await api('GET', `/api/drafts/${E}/trial-setup`);
    if (r.status === 404) { say(T.no_draft); $('trial-start').disabled = true; return; }
    if (!r.ok) { showErrors(r); return; }
    const box = $('trial-gateways');
    box.replaceChildren(...r.data.gateways.map((gw) => {
      const flowLabel = (f) => fmt(T.flow, { flow: f.name || f.id, target: f.target })
        + (gw.default === f.id ? ` ${T.default}` : '');
      if (gw.type === 'inclusiveGateway') {  // several ways at once: none ticked lets the data decide
        const set = el('fieldset', { className: 'trial-gateway', id: `choice-${gw.id}` },
          el('legend', { textContent: `${gw.name || gw.id} (${gw.id}): ${T.inclusive}` }));
        set.dataset.gateway = gw.id;
        for (const f of gw.flows) {
          const box = el('input', { type: 'checkbox', value: f.id, id: `choice-${gw.id}-${f.id}` });
          set.append(el('label', { htmlFor: box.id, className: 'inline' }, box, ` ${flowLabel(f)}`));
        }
        return set;
      }
      const select = el('select', { id: `choice-${gw.id}` });
      select.dataset.gateway = gw.id;
      select.append(el('option', { value: 'datos', textContent: T.by_data }));
      for (const f of gw.flows) select.append(el('option', { value: f.id, textContent: flowLabel(f) }));
      return el('div', { className: 'trial-gateway' },
        el('label', { htmlFor: select.id, textContent: `${gw.name || gw.id} (${gw.id})` }), select);
    }));
    $('trial-start-data').value = JSON.stringify(r.data.start_example || {}, null, 2);
    $('trial-start-form').textContent = r.data.start_form ? fmt(T.start_form, { form: r.data.start_form }) : '';
    $('trial-step-limit').value = r.data.step_limit;
  }

  function choicesOf() {
    const choices = {};
    for (const s of document.querySelectorAll('#trial-gateways select')) {
      if (s.value !== 'datos') choices[s.dataset.gateway] = s.value;
    }
    for (const set of document.querySelectorAll('#trial-gateways fieldset')) {
      const ticked = [ ...set.querySelectorAll('input:checked') ].map((b) => b.value);
      if (ticked.length) choices[set.dataset.gateway] = ticked.join(',');
    }
    return choices;
  }

  // Once the path shows the way a gateway took: choose again; a new trial replays this one's steps.
  async function rechoose() {
    clearErrors();
    say(T.starting);
    const r = await api('POST', `/api/trials/${token}/choices`, { choices: choicesOf() });
    if (!r.ok) { say(''); showErrors(r); return; }
    token = r.data.token;
    $('trial-setup').hidden = true;
    $('trial-run').hidden = false;
    show(r.data);
    say(`${$('trial-status').textContent} ${fmt(T.replayed, { n: r.data.replayed, total: r.data.replay_total })}`);
  }

  async function start() {
    clearErrors();
    const data = parsed($('trial-start-data'), T.start_data);
    if (!data) return;
    const choices = choicesOf();
    say(T.starting);
    $('trial-start').disabled = true;
    const r = await api('POST', '/api/trials', { process_key: config.key, data, choices,
      step_limit: Number($('trial-step-limit').value) || null });
    $('trial-start').disabled = false;
    if (!r.ok) { say(''); showErrors(r); return; }
    token = r.data.token;
    $('trial-setup').hidden = true;
    $('trial-run').hidden = false;
    try {
      await drawDiagram();
    } catch (err) {  // a diagram without its drawing (no DI): the run goes on without the picture
      viewer = null;
      $('trial-diagram').textContent = fmt(T.no_diagram, { error: err.message });
    }
    show(r.data);
  }

  async function drawDiagram() {
    const r = await fetch(`/api/drafts/${E}/bpmn`, { credentials: 'same-origin' });
    const xml = await r.text();
    if (!viewer) {  // one viewer for every trial of the page
      $('trial-diagram').replaceChildren();
      viewer = window.ExpedienteModeler.createViewer({ container: $('trial-diagram'),
        locale: document.documentElement.lang });
    }
    marked = [];
    await window.ExpedienteModeler.importDiagram(viewer, xml);
    viewer.get('canvas').zoom('fit-viewport');
  }

  function markPath(path) {
    if (!viewer) return;
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    marked.forEach(([ id, cls ]) => registry.get(id) && canvas.removeMarker(id, cls));
    marked = [];
    const add = (id, cls) => { if (registry.get(id)) { canvas.addMarker(id, cls); marked.push([ id, cls ]); } };
    for (const cls of [ 'done', 'active', 'failed' ]) (path[cls] || []).forEach((id) => add(id, cls));
    (path.flows || []).forEach((id) => { add(id, 'done'); add(id, 'taken'); });
    $('trial-diagram').dataset.done = (path.done || []).join(' ');
    $('trial-diagram').dataset.active = (path.active || []).join(' ');
    $('trial-diagram').dataset.flows = (path.flows || []).join(' ');
  }

  function show(state) {
    const steps = state.steps.length - 1;
    say(`${T.states[state.case_state] || state.case_state} ${fmt(T.steps_of, { n: steps, limit: state.step_limit })}`);
    $('trial-run').dataset.state = state.case_state;
    markPath(state.path);
    $('trial-problems').replaceChildren(...state.problems.map((p) => el('li', { textContent: p.message })));
    const tasks = state.ready_tasks.map((task) => {
      const area = el('textarea', { rows: 8, spellcheck: false, id: `task-data-${task.element_id}` });
      area.value = JSON.stringify(task.example || {}, null, 2);
      const button = el('button', { type: 'button', textContent: T.complete });
      button.dataset.task = task.element_id;
      button.addEventListener('click', () => step(`/api/trials/${token}/tasks/${task.id}`, area, T.task_data,
        (data) => ({ data })));
      const clerk = el('a', { href: `/modelador/${E}/prueba/${token}/tarea/${task.id}`, textContent: T.clerk_form,
        className: 'button secondary' });
      clerk.dataset.task = task.element_id;
      return el('div', { className: 'trial-task' },
        el('h4', { textContent: `${task.title} (${task.element_id})` }), el('p', {}, clerk),
        el('label', { htmlFor: area.id, textContent: task.form_key ? fmt(T.start_form, { form: task.form_key }) : T.task_data }),
        area, button);
    });
    $('trial-tasks').replaceChildren(...(tasks.length ? tasks : [ el('p', { textContent: T.no_tasks }) ]));
    $('trial-timers').replaceChildren(...(state.timers.length ? state.timers.map((t) => el('li', {
      textContent: `${t.name || t.element_id} (${t.element_id}), ${fmt(T.due, { when: new Date(t.due_at).toLocaleString() })}` }))
      : [ el('li', { textContent: T.no_timers }) ]));
    $('trial-fire').hidden = !state.timers.length;
    const waits = state.waits.map((w) => {
      const area = el('textarea', { rows: 4, spellcheck: false, id: `wait-${w.id}` });
      area.value = JSON.stringify({ respuesta: '' }, null, 2);
      const button = el('button', { type: 'button', textContent: T.send, className: 'secondary' });
      button.addEventListener('click', () => step(`/api/trials/${token}/messages`, area, T.payload,
        (payload) => ({ name: w.name, correlation: w.keys, payload })));
      return el('div', { className: 'trial-wait' },
        el('h4', { textContent: `${w.name} (${w.element_id})` }),
        el('p', { textContent: fmt(T.keys, { keys: JSON.stringify(w.keys) }) }),
        el('label', { htmlFor: area.id, textContent: T.payload }), area, button);
    });
    $('trial-waits').replaceChildren(...(waits.length ? waits : [ el('p', { textContent: T.no_waits }) ]));
    $('trial-data').textContent = JSON.stringify(state.data, null, 2);
    // Each step with the data as it left them.
    $('trial-steps').replaceChildren(...state.steps.map((s) => el('li', {},
      el('details', {}, el('summary', { textContent: fmt(T.step_kinds[s.kind] || s.kind, { element: s.element }) }),
        el('pre', { className: 'trial-data', tabIndex: 0, textContent: JSON.stringify(s.data, null, 2) })))));
    if (state.message) say(`${$('trial-status').textContent} ${fmt(T.message_state, { state: state.message.state })}`);
  }

  async function step(path, area, what, body) {
    clearErrors();
    let payload = {};
    if (area) {
      payload = parsed(area, what);
      if (!payload) return;
    }
    const r = await api('POST', path, body(payload));
    if (!r.ok) { showErrors(r); return; }
    show(r.data);
  }

  $('trial-start').addEventListener('click', start);
  $('trial-rechoose').addEventListener('click', rechoose);
  $('trial-choose-again').addEventListener('click', () => {
    $('trial-setup').hidden = false;
    $('trial-start').hidden = true;
    $('trial-rechoose').hidden = false;
    $('trial-setup').scrollIntoView({ block: 'start' });
  });
  $('trial-fire').addEventListener('click', () => step(`/api/trials/${token}/timers`, null, '', () => undefined));
  $('trial-end').addEventListener('click', async () => {
    if (token) await api('DELETE', `/api/trials/${token}`);
    token = null;
    $('trial-run').hidden = true;
    $('trial-setup').hidden = false;
    $('trial-start').hidden = false;
    $('trial-rechoose').hidden = true;
    say(T.ended);
  });
  // Back from a task filled in on its own page (?prueba=<token>): the same trial, where it is now.
  async function resume() {
    await setup();
    const wanted = new URLSearchParams(location.search).get('prueba');
    if (!wanted) return;
    const r = await api('GET', `/api/trials/${encodeURIComponent(wanted)}`);
    if (!r.ok) { showErrors(r); return; }
    token = r.data.token;
    $('trial-setup').hidden = true;
    $('trial-run').hidden = false;
    try {
      await drawDiagram();
    } catch (err) {
      viewer = null;
      $('trial-diagram').textContent = fmt(T.no_diagram, { error: err.message });
    }
    show(r.data);
  }
  resume();
})();
