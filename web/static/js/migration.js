// "Aplicar" on a migration's page (web/templates/pages/migration.html): posts the batches to the API one after another,
// moving the progress bar, then reloads the page to show each case's result. Without JavaScript the form applies one
// batch per press.
(() => {
  const configNode = document.getElementById('migration-config');
  const form = document.getElementById('aplicar');
  if (!configNode || !form) return;
  const config = JSON.parse(configNode.textContent);
  const bar = document.getElementById('progreso');
  const text = document.getElementById('progreso-texto');
  const button = document.getElementById('boton-aplicar');
  const say = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ''));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    let remaining = 1;
    while (remaining > 0) {
      const response = await fetch(config.apply, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': config.csrf },
        body: JSON.stringify({ batch: 50 }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        text.textContent = say(config.t.error, { status: response.status, detail: body.detail || '' });
        button.disabled = false;
        return;
      }
      remaining = body.remaining;
      const done = body.migrated + body.skipped + body.undone;
      bar.max = Math.max(done + remaining, 1);
      bar.value = done;
      text.textContent = say(config.t.progress, { done, total: done + remaining });
    }
    text.textContent = config.t.finished;
    window.location.reload();
  });
})();
