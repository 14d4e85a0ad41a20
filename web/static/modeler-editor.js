// The modeler page: open the draft (or the published version), save, publish, list versions and compare them.
// Every text the supervisor reads comes translated from the page (config.t); the server validates everything.
(() => {
  'use strict';
  const config = JSON.parse(document.getElementById('modeler-config').textContent);
  const api = window.expedienteApi(config.csrf);  // js/json_api.js
  const T = config.t;
  const KEY = config.key;
  const E = encodeURIComponent(KEY);
  const { createModeler, createViewer, importDiagram, exportDiagram, pinProblems, markDiff } = window.ExpedienteModeler;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
  const when = (iso) => (iso ? new Intl.DateTimeFormat(document.documentElement.lang || 'es', {
    timeZone: 'America/Guatemala', dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso)) : '');

  const modeler = createModeler({ container: $('canvas'), panel: $('panel'), forms: config.forms,
    documents: config.documents, operators: config.operators,
    locale: document.documentElement.lang,
    processes: config.processes.filter((p) => p !== KEY) });
  let clearPins = () => {};
  let clearDiff = () => {};
  let lostOnSave = [];
  let hasDraft = false;
  let revision = 0;  // the draft revision on screen (0: none); the server refuses a save built on an older one
  let base = null;  // the version the draft builds on (null: a new procedure)
  let dirty = false;
  modeler.on('commandStack.changed', () => { dirty = true; });
  window.addEventListener('beforeunload', (event) => { if (dirty) { event.preventDefault(); event.returnValue = ''; } });

  const say = (text) => { $('status').textContent = text; };
  const failure = (r) => (r.data && (r.data.detail || r.data.title)) || fmt(T.error_status, { status: r.status });
  const diagramOf = async (version) => {
    const r = await fetch(`/api/processes/${E}/versions/${version}/bpmn`, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(fmt(T.error_status, { status: r.status }));
    return r.text();
  };

  // A version published after the draft was opened: the draft would replace its changes. Say so, offer the
  // comparison with it and, once the supervisor agrees, base the draft on it (publishing is refused until then).
  function checkBase() {
    const stale = hasDraft && Boolean(config.latest) && (base === null || base < config.latest);
    $('rebase').hidden = !stale;
    if (!stale) return;
    const values = { base, latest: config.latest };
    $('rebase-text').textContent = fmt(base === null ? T.rebase_text_new : T.rebase_text, values);
    $('rebase-compare').textContent = fmt(T.compare_with, { version: config.latest });
    $('rebase-accept').textContent = fmt(T.rebase_accept, values);
  }

  function setDraft(present) {
    hasDraft = present;
    $('discard').hidden = !present;
    $('diff-draft').hidden = !present;
    $('download').href = present ? `/api/drafts/${E}/bpmn` : `/api/processes/${E}/versions/${config.latest}/bpmn`;
  }

  function showProblems(problems) {
    clearPins();
    clearPins = pinProblems(modeler, problems);
    const list = $('problems');
    if (!problems.length) {
      const li = document.createElement('li'); li.textContent = T.no_problems; list.replaceChildren(li); return;
    }
    list.replaceChildren(...problems.map((p) => {
      const li = document.createElement('li');
      li.textContent = `${p.severity === 'error' ? T.error : T.warning}: ${p.message}`;
      li.className = `problem ${p.severity || 'error'}`;
      if (p.element_id) {
        li.dataset.element = p.element_id;
        li.tabIndex = 0;
        const go = () => {
          const el = modeler.get('elementRegistry').get(p.element_id);
          if (el) { modeler.get('selection').select(el); modeler.get('canvas').scrollToElement(el); }
        };
        li.addEventListener('click', go);
        li.addEventListener('keydown', (event) => { if (event.key === 'Enter') go(); });
      }
      return li;
    }));
  }

  async function load(xml) {
    clearDiff = () => {};  // a new import has no marks
    clearPins = () => {};  // nor pins: their elements may be gone (an applied fix renames the process)
    const { warnings } = await importDiagram(modeler, xml);
    lostOnSave = warnings.map((w) => w.message.split('\n')[0]);
    $('import-warnings').hidden = !lostOnSave.length;
    $('import-warnings').textContent = lostOnSave.length ? fmt(T.lost, { parts: lostOnSave.join('; ') }) : '';
    modeler.get('canvas').zoom('fit-viewport');
    dirty = false;
  }

  function draftStatus(d) {
    const values = { who: d.updated_by || '—', when: when(d.updated_at), version: d.base_version };
    return fmt(d.base_version ? T.draft_status : T.draft_status_new, values);
  }

  // The draft when there is one; otherwise the published version, which becomes a draft on the first save.
  async function open(prefix = '') {
    const r = await api('GET', `/api/drafts/${E}`);
    if (r.ok) {
      setDraft(true);
      revision = r.data.revision;
      base = r.data.base_version;
      await load(r.data.xml);
      showProblems(r.data.problems);
      say(prefix + draftStatus(r.data));
      await analyseImport();
    } else if (r.status === 404 && config.latest) {
      setDraft(false);
      revision = 0;
      await load(await diagramOf(config.latest));
      showProblems([]);
      say(prefix + fmt(T.no_draft, { version: config.latest }));
    } else {
      say(failure(r));
    }
    checkBase();
    await loadVersions();
  }

  async function save(extra = {}) {
    if (lostOnSave.length && !confirm(T.confirm_lost)) return null;
    const xml = await exportDiagram(modeler);
    const r = await api('PUT', `/api/drafts/${E}`, { xml, revision, ...extra });
    if (r.status === 409) { conflict(r, xml); return null; }
    if (!r.ok) { say(failure(r)); return null; }
    revision = r.data.revision;
    base = r.data.base_version;
    lostOnSave = [];
    $('import-warnings').hidden = true;
    dirty = false;
    setDraft(true);
    checkBase();
    showProblems(r.data.problems);
    say(r.data.valid ? T.saved_ok : T.saved_errors);
    return r.data;
  }

  // Somebody else saved, published or discarded the draft meanwhile: nothing was written. The supervisor keeps
  // what is on screen and can download it before reopening.
  function conflict(r, xml) {
    say(failure(r));
    const link = document.createElement('a');
    link.className = 'button secondary';
    link.id = 'download-mine';
    link.textContent = T.download_mine;
    link.download = `${KEY}-mis-cambios.bpmn`;
    link.href = URL.createObjectURL(new Blob([ xml ], { type: 'application/xml' }));
    const reopen = document.createElement('a');
    reopen.href = location.pathname;
    reopen.textContent = T.reopen;
    $('status').append(' ', link, ' ', reopen);
  }

  async function loadVersions() {
    const r = await api('GET', `/api/processes/${E}/versions`);
    const rows = r.ok ? r.data : [];
    $('versions').replaceChildren(...rows.map((v) => {
      const tr = document.createElement('tr');
      for (const text of [v.version, v.created_by || '', when(v.created_at), v.comment || '', v.open_cases]) {
        const td = document.createElement('td'); td.textContent = text; tr.append(td);
      }
      const td = document.createElement('td');
      if (v.version > 1) {
        const b = document.createElement('button');
        b.type = 'button'; b.className = 'secondary'; b.textContent = fmt(T.compare_with, { version: v.version - 1 });
        b.addEventListener('click', () => compareVersions(v.version - 1, v.version));
        td.append(b, ' ');
      }
      const a = document.createElement('a');
      a.href = `/api/processes/${E}/versions/${v.version}/bpmn`;
      a.download = `${KEY}-v${v.version}.bpmn`;
      a.textContent = T.download;
      td.append(a);
      tr.append(td);
      return tr;
    }));
    const numbers = rows.map((v) => v.version).sort((a, b) => a - b);
    $('compare-form').hidden = numbers.length < 2;
    for (const [id, pick] of [['compare-old', numbers.length - 2], ['compare-new', numbers.length - 1]]) {
      $(id).replaceChildren(...numbers.map((n, i) => {
        const o = document.createElement('option'); o.value = n; o.textContent = n; o.selected = i === pick; return o;
      }));
    }
  }

  // Two read-only diagrams side by side: the old one marks what was removed, the new one what was added;
  // both mark what changed. The lists below say what each change was.
  const viewers = {};
  const viewer = (side) => (viewers[side] = viewers[side] || createViewer({ container: $(`compare-${side}-canvas`),
    locale: document.documentElement.lang }));

  function label(field) {
    if (T.fields[field]) return T.fields[field];
    const [kind, ...rest] = field.split(':');
    return T.kinds[kind] && rest.length ? fmt(T.kinds[kind], { name: rest.join(':') }) : field;
  }

  function listOf(id, items, text) {
    const li = (content) => { const el = document.createElement('li'); el.textContent = content; return el; };
    $(id).replaceChildren(...(items.length ? items.map((e) => li(text(e))) : [li(T.none)]));
    for (const [i, e] of items.entries()) $(id).children[i].dataset.element = e.id;
  }

  async function showComparison(title, oldTitle, oldXml, newTitle, newXml, diff) {
    $('compare-section').hidden = false;
    $('compare-title').textContent = title;
    $('compare-old-title').textContent = oldTitle;
    $('compare-new-title').textContent = newTitle;
    for (const [side, xml] of [['old', oldXml], ['new', newXml]]) {
      const v = viewer(side);
      if (xml) {
        await importDiagram(v, xml);
        v.get('canvas').zoom('fit-viewport');
        markDiff(v, diff, side);
      } else {
        v.clear();
      }
    }
    const named = (e) => `${e.name || e.id} (${e.type})`;
    listOf('compare-added', diff.added, named);
    listOf('compare-removed', diff.removed, named);
    listOf('compare-changes', diff.changed, (e) => `${e.name || e.id}: ` + e.changes.map(
      (c) => `${label(c.field)} «${c.old ?? ''}» → «${c.new ?? ''}»`).join('; '));
    $('compare-section').scrollIntoView({ block: 'start' });
  }

  async function compareVersions(old, neu) {
    if (old === neu) { say(T.same_version); return; }
    const [d, oldXml, newXml] = await Promise.all([
      api('GET', `/api/processes/${E}/versions/${old}/diff/${neu}`), diagramOf(old), diagramOf(neu)]);
    if (!d.ok) { say(failure(d)); return; }
    await showComparison(fmt(T.compare_title, { old, new: neu }), fmt(T.version, { version: old }), oldXml,
      fmt(T.version, { version: neu }), newXml, d.data);
  }

  async function compareDraft(against = null) {
    const saved = await save();
    if (!saved) return;
    const d = await api('GET', `/api/drafts/${E}/diff` + (against ? `?against=${against}` : ''));
    if (!d.ok) { say(failure(d)); return; }
    const old = d.data.old;
    await showComparison(old ? fmt(T.compare_title_draft, { old }) : T.compare_title_new,
      old ? fmt(T.version, { version: old }) : T.nothing, old ? await diagramOf(old) : null,
      T.draft, saved.xml, d.data);
    clearDiff();
    clearDiff = markDiff(modeler, d.data, 'new');
    say(fmt(T.draft_changes, { added: d.data.added.length, changed: d.data.changed.length,
      removed: d.data.removed.length }));
  }


  // A diagram from another tool: the guided fixes it needs (engine/language/import_fixes.py), each with its
  // choice; applied on the server to the diagram on screen, which is then loaded and saved as the draft.
  let fixes = [];
  async function analyseImport() {
    const xml = await exportDiagram(modeler);
    const r = await api('POST', `/api/drafts/${E}/import-fixes`, { xml });
    showFixes(r.ok ? r.data.fixes : []);
  }

  function showFixes(list) {
    fixes = list;
    $('import-fixes').hidden = !list.length;
    $('fixes-list').replaceChildren(...list.map((fix, i) => {
      const li = document.createElement('li');
      li.className = `fix fix-${fix.kind}`;
      li.dataset.fix = fix.id;
      li.dataset.kind = fix.kind;
      const text = document.createElement('p');
      text.textContent = fix.message;
      li.append(text);
      if (!fix.applicable) {
        const note = document.createElement('em'); note.textContent = T.fix_by_hand; li.append(note); return li;
      }
      let input = null;
      if (fix.options.length) {
        input = document.createElement('select');
        const none = document.createElement('option'); none.value = ''; none.textContent = T.fix_choose; input.append(none);
        for (const o of fix.options) {
          const opt = document.createElement('option'); opt.value = o.value; opt.textContent = o.label; input.append(opt);
        }
      } else if (fix.kind === 'expression') {
        input = document.createElement('input'); input.type = 'text'; input.value = fix.suggestion || '';
        input.size = 60;
      }
      if (input) {
        input.id = `fix-${i}`;
        input.className = 'fix-value';
        const label = document.createElement('label');
        label.htmlFor = input.id;
        label.className = 'visually-hidden';
        label.textContent = fix.kind === 'expression' ? T.fix_python : fix.element;
        li.append(label, input);
      }
      const one = document.createElement('button');
      one.type = 'button'; one.className = 'secondary fix-apply-one'; one.textContent = T.fix_apply;
      one.addEventListener('click', () => applyFixes([ li ]));
      li.append(' ', one);
      return li;
    }));
  }

  async function applyFixes(items) {
    const chosen = [];
    for (const li of items) {
      const fix = fixes.find((f) => f.id === li.dataset.fix);
      if (!fix || !fix.applicable) continue;
      const input = li.querySelector('.fix-value');
      const value = input ? input.value : null;
      if (fix.options.length && !value) continue;  // not chosen yet
      chosen.push({ id: fix.id, value });
    }
    if (!chosen.length) { say(T.fixes_none_chosen); return; }
    const xml = await exportDiagram(modeler);
    const r = await api('POST', `/api/drafts/${E}/import-fixes/apply`, { xml, fixes: chosen });
    if (!r.ok) { say(failure(r)); return; }
    await load(r.data.xml);
    dirty = true;
    const saved = await save();
    showFixes(r.data.fixes);
    if (saved) say(`${fmt(T.fixes_applied, { n: chosen.length })} ${$('status').textContent}`);
  }

  $('fixes-apply').addEventListener('click', () => applyFixes([ ...$('fixes-list').children ]));
  $('try-draft').addEventListener('click', async (event) => {
    if (!dirty && hasDraft) return;  // the saved draft is what the trial runs
    event.preventDefault();
    if (await save()) location.href = $('try-draft').href;
  });

  $('save').addEventListener('click', () => save());
  $('diff-draft').addEventListener('click', () => compareDraft());
  $('rebase-compare').addEventListener('click', () => compareDraft(config.latest));
  $('rebase-accept').addEventListener('click', () => save({ base_version: config.latest }));
  $('compare-form').addEventListener('submit', (event) => {
    event.preventDefault();
    compareVersions(Number($('compare-old').value), Number($('compare-new').value));
  });
  $('upload').addEventListener('change', async (event) => {
    const [file] = event.target.files;
    event.target.value = '';
    if (!file || (dirty && !confirm(T.confirm_upload))) return;
    await load(await file.text());
    if (await save()) say(`${fmt(T.uploaded, { file: file.name })} ${$('status').textContent}`);
    await analyseImport();
  });
  $('discard').addEventListener('click', async () => {
    if (!confirm(T.confirm_discard)) return;
    const r = await api('DELETE', `/api/drafts/${E}`);
    if (!r.ok && r.status !== 404) { say(failure(r)); return; }
    dirty = false;
    if (config.latest) await open(); else location.href = config.index;
  });
  const publish = $('publish');
  if (publish) publish.addEventListener('click', async () => {
    const comment = $('comment').value.trim();
    if (!comment) { say(T.comment_needed); $('comment').focus(); return; }
    const saved = await save();
    if (!saved) return;
    if (!saved.valid) { say(T.fix_first); return; }
    const r = await api('POST', `/api/drafts/${E}/publish`, { comment, revision });
    if (r.status === 422) { showProblems((r.data && r.data.errors) || []); say(T.publish_refused); return; }
    if (r.status === 409 && r.data && r.data.latest_version) {  // a version was published meanwhile
      config.latest = r.data.latest_version;
      say(failure(r));
      checkBase();
      await loadVersions();
      return;
    }
    if (r.status === 409) { conflict(r, await exportDiagram(modeler)); return; }
    if (!r.ok) { say(failure(r)); return; }
    config.latest = r.data.version;
    $('comment').value = '';
    await open(fmt(T.published, { version: r.data.version }) + ' ');
  });
  open();
})();
