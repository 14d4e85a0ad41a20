// A JSON call from a page to our API: the cookie session with the page's CSRF token. The answer is
// {ok, status, data}, data being the parsed body (null for 204 or a body that is not JSON).
// Pages load it before their own script: const api = window.expedienteApi(config.csrf);
window.expedienteApi = (csrf) => async (method, path, body) => {
  const r = await fetch(path, { method, credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  return { ok: r.ok, status: r.status, data };
};
