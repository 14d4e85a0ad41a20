// The decision-table editor: the draft's DMN table in dmn-js, saved through the API (409 when somebody saved since),
// tried with sample inputs on the server (the workflow's DMN engine and sandbox) and published with the draft.
// Every text the supervisor reads comes translated from the page (config.t); the server checks everything.
(() => {
  'use strict';
  const config = JSON.parse(document.getElementById('decision-config').textContent);
  const api = window.expedienteApi(config.csrf);  // js/json_api.js
  const T = config.t;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
  const API = `/api/drafts/${encodeURIComponent(config.key)}/decisions/${encodeURIComponent(config.file)}`;
  let table = config.table;
  let revision = table.revision;  // the revision on screen (0: the version's file); a stale save is refused
  let dirty = false;
  let matched = new Set();  // the rules the last try matched, highlighted in the table

  // Cells are Python expressions here, not FEEL: plain text editors, and no FEEL badge on every cell.
  // dmn-js's own texts in the page's language (config.dmn: its English text -> ours), {placeholders} filled in.
  const translate = (template, replacements) => (config.dmn[template] || template)
    .replace(/{([^}]+)}/g, (m, key) => (replacements && key in replacements ? replacements[key] : m));
  const modeler = new window.DmnJS({
    container: $('decision-table'),
    common: {
      expressionLanguages: { options: [{ value: 'python', label: 'Python' }], defaults: { editor: 'python' } },
    },
    // Per view: dmn-js replaces common's additionalModules with the view's own.
    decisionTable: { additionalModules: [{ translate: ['value', translate] }] },
  });
  window.addEventListener('beforeunload', (event) => { if (dirty) { event.preventDefault(); event.returnValue = ''; } });

  const say = (text) => { $('status').textContent = text; };
  const failure = (r) => (r.data && (r.data.detail || r.data.title)) || fmt(T.error_status, { status: r.status });

  function highlight() {
    for (const cell of $('decision-table').querySelectorAll('td[data-row-id]')) {
      cell.classList.toggle('matched-rule', matched.has(cell.getAttribute('data-row-id')));
    }
  }

  async function open(xml) {
    await modeler.importXML(xml);
    const view = modeler.getViews().find((v) => v.type === 'decisionTable');
    if (view) await modeler.open(view);
    const viewer = modeler.getActiveViewer();
    viewer.get('eventBus').on('elements.changed', () => { dirty = true; setTimeout(highlight, 0); });
    dirty = false;
  }

  function showProblems(problems) {
    const list = $('problems');
    list.replaceChildren();
    if (!problems.length) {
      const li = document.createElement('li');
      li.textContent = T.no_problems;
      list.append(li);
      return;
    }
    for (const p of problems) {
      const li = document.createElement('li');
      li.className = p.severity === 'warning' ? 'warning' : 'error';
      li.textContent = `${p.severity === 'warning' ? T.warning : T.error}: ${p.message}`;
      list.append(li);
    }
  }

  function showStatus() {
    say(table.edited ? fmt(T.opened_draft, { who: table.updated_by || '—', revision }) : T.opened_version);
  }

  function showFields() {
    const box = $('try-fields');
    box.replaceChildren();
    if (!table.inputs.length) {
      const p = document.createElement('p');
      p.textContent = T.no_inputs;
      box.append(p);
    }
    for (const column of table.inputs) {
      const field = document.createElement('div');
      field.className = 'field';
      const label = document.createElement('label');
      const id = `try-${column.id}`;
      label.htmlFor = id;
      label.textContent = column.label;
      const help = document.createElement('p');
      help.className = 'help';
      help.id = `${id}-help`;
      help.textContent = column.name
        ? [column.name, column.type_ref ? fmt(T.type, { type: column.type_ref }) : ''].filter(Boolean).join(' · ')
        : fmt(T.not_settable, { expression: column.expression });
      let input;
      if ((column.type_ref || '').toLowerCase() === 'boolean') {
        input = document.createElement('select');
        for (const [value, text] of [['', T.empty], ['true', T.yes], ['false', T.no]]) {
          input.append(new Option(text, value));
        }
      } else {
        input = document.createElement('input');
        input.type = 'text';
      }
      input.id = id;
      input.name = column.id;
      input.disabled = !column.name;
      input.setAttribute('aria-describedby', help.id);
      field.append(label, help, input);
      box.append(field);
    }
  }

  const shown = (value) => {
    if (value === null || value === undefined || value === '') return T.empty;
    if (value === true) return T.yes;
    if (value === false) return T.no;
    if (Array.isArray(value)) return value.map(shown).join('; ');
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  };

  function showTry(result) {
    $('try-result').hidden = false;
    $('try-error').hidden = !result.error;
    $('try-error').textContent = result.error || '';
    $('try-matched').replaceChildren(...result.matched.map((rule) => {
      const li = document.createElement('li');
      li.dataset.rule = rule.id;
      li.textContent = `${fmt(T.row, { row: rule.row })}${rule.description ? `: ${rule.description}` : ''}`;
      return li;
    }));
    $('try-outputs').replaceChildren(...result.outputs.map((output) => {
      const tr = document.createElement('tr');
      tr.dataset.output = output.name;
      for (const text of [output.label, output.name, shown(output.value)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
    matched = new Set(result.matched.map((rule) => rule.id));
    highlight();
  }

  $('try-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const input of $('try-fields').querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    const values = {};
    for (const column of table.inputs) {
      if (column.name) values[column.id] = $(`try-${column.id}`).value;
    }
    $('try-result').setAttribute('aria-busy', 'true');
    try {
      await tryValues(values);
    } finally {
      $('try-result').setAttribute('aria-busy', 'false');
    }
  });

  async function tryValues(values) {
    const { xml } = await modeler.saveXML({ format: true });
    const r = await api('POST', `${API}/try`, { values, xml });
    if (r.ok) {
      showTry(r.data);
      return;
    }
    $('try-result').hidden = false;
    $('try-matched').replaceChildren();
    $('try-outputs').replaceChildren();
    $('try-error').hidden = false;
    $('try-error').textContent = failure(r);
    matched = new Set();
    highlight();
    for (const e of (r.data && r.data.errors) || []) {
      const input = e.field && $(`try-${e.field}`);
      if (input) input.setAttribute('aria-invalid', 'true');
    }
    if (r.status === 422) showProblems(r.data.errors || []);
  }

  $('save').addEventListener('click', async () => {
    const { xml } = await modeler.saveXML({ format: true });
    const r = await api('PUT', API, { xml, revision });
    if (r.ok) {
      table = r.data;
      revision = table.revision;
      dirty = false;
      showProblems(table.problems);
      showFields();
      say(T.saved);
    } else if (r.status === 422) {
      showProblems((r.data && r.data.errors) || []);
      say(T.save_refused);
    } else {
      say(failure(r));
    }
  });

  const publish = $('publish');
  if (publish) {
    publish.addEventListener('click', async () => {
      const comment = $('comment').value.trim();
      if (!comment) { say(T.comment_needed); $('comment').focus(); return; }
      if (dirty) { say(T.unsaved_first); return; }
      const r = await api('POST', `/api/drafts/${encodeURIComponent(config.key)}/publish`, { comment });
      say(r.ok ? fmt(T.published, { version: r.data.version }) : fmt(T.publish_refused, { detail: failure(r) }));
      if (r.ok) { publish.disabled = true; $('save').disabled = true; }
    });
  }

  showProblems(table.problems);
  showFields();
  showStatus();
  open(table.xml).catch((err) => say(String(err && err.message ? err.message : err)));
})();
