// The auditor's exports of a search (CSV, JSON): downloaded through fetch and a ReadableStream so a progress bar
// shows the rows received against the total the server announces (X-Total-Count); each row is one line. The
// links still download without JavaScript. A file, not inline script, so the Content-Security-Policy allows it.
(function () {
  "use strict";
  var NEWLINE = 10;
  var box = document.querySelector(".exports");
  if (!box || !window.fetch || !window.ReadableStream) { return; }
  var bar = document.getElementById("export-progress");
  var status = document.getElementById("export-status");

  function show(done, total) {
    var fraction = total > 0 ? Math.min(1, done / total) : 1;
    bar.value = Math.round(fraction * 100);
    status.textContent = box.dataset.rowsText.replace("{done}", String(Math.min(done, total)))
      .replace("{total}", String(total));
  }

  function filenameOf(response, fallback) {
    var found = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    return found ? found[1] : fallback;
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  async function download(link) {
    var response = await fetch(link.href, { credentials: "same-origin" });
    if (!response.ok || !response.body) { throw new Error("HTTP " + response.status); }
    var total = parseInt(response.headers.get("X-Total-Count") || "0", 10);
    var isCsv = /\.csv(\?|$)/.test(link.pathname);
    var headerLines = 1;  // the CSV's column names; the JSON's opening line
    var reader = response.body.getReader();
    var chunks = [];
    var lines = 0;
    bar.hidden = false;
    show(0, total);
    for (;;) {
      var step = await reader.read();
      if (step.done) { break; }
      chunks.push(step.value);
      for (var i = 0; i < step.value.length; i++) { if (step.value[i] === NEWLINE) { lines++; } }
      show(Math.max(0, lines - headerLines), total);
    }
    show(total, total);
    bar.value = 100;
    status.textContent = status.textContent + " · " + box.dataset.doneText;
    var type = response.headers.get("Content-Type") || (isCsv ? "text/csv" : "application/json");
    save(new Blob(chunks, { type: type }), filenameOf(response, isCsv ? "eventos.csv" : "eventos.json"));
  }

  box.querySelectorAll("a.audit-export").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      box.setAttribute("aria-busy", "true");
      download(link).catch(function () {
        status.textContent = box.dataset.errorText;
      }).finally(function () { box.removeAttribute("aria-busy"); });
    });
  });
}());
