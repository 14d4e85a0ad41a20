// The modeler's index page: a new draft from the template or from an uploaded .bpmn (texts and CSRF token come
// from the page's JSON block; a file, not an inline script, so the Content-Security-Policy allows it).
(() => {
  const config = JSON.parse(document.getElementById('modeler-index-config').textContent);
  const T = config.t;
  const error = document.getElementById('nuevo-error');
  const send = (method, path, body) => fetch(path, { method, credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': config.csrf }, body: JSON.stringify(body) });
  const message = async (r) => {
    const body = await r.json().catch(() => ({}));
    const fields = (body.errors || []).map((e) => e.message).filter(Boolean);
    return [body.detail || body.message || T.error.replace('{status}', r.status), ...fields].join(' ');
  };
  document.getElementById('nuevo').addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const form = new FormData(event.target);
    let key = (form.get('process_key') || '').trim();
    const file = form.get('file');
    let xml = null;
    if (file && file.size) {
      xml = await file.text();
      const doc = new DOMParser().parseFromString(xml, 'application/xml');
      if (doc.getElementsByTagName('parsererror').length) { error.textContent = T.unreadable; return; }
      const processes = [...doc.getElementsByTagNameNS('http://www.omg.org/spec/BPMN/20100524/MODEL', 'process')];
      const executable = processes.find((p) => p.getAttribute('isExecutable') === 'true');
      if (!key) {
        if (!executable) { error.textContent = T.no_process; return; }
        key = executable.getAttribute('id');
      }
    }
    if (!key) { error.textContent = T.key_needed; return; }
    if (xml !== null) {  // never overwrite somebody's draft from here: open it and upload there
      const existing = await fetch(`/api/drafts/${encodeURIComponent(key)}`, { credentials: 'same-origin' });
      if (existing.ok) { error.textContent = T.draft_exists.replace('{key}', key); return; }
    }
    const r = xml === null
      ? await send('POST', '/api/drafts', { process_key: key, name: form.get('name') || '' })
      : await send('PUT', `/api/drafts/${encodeURIComponent(key)}`, { xml });
    if (!r.ok && r.status !== 409) { error.textContent = await message(r); return; }
    location.href = `${config.editor}/${encodeURIComponent(key)}`;
  });
})();
