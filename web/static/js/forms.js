// Repeatable groups (add/remove rows) and upload progress; the form works without this script too.
(function () {
  function renumber(group) {
    group.querySelectorAll(".row").forEach(function (row, i) {
      row.querySelectorAll("[name]").forEach(function (el) {
        el.name = el.name.replace(/\.(\d+|__i__)\./, "." + i + ".");
        if (el.id) el.id = el.id.replace(/-(\d+|__i__)-/, "-" + i + "-");
      });
      row.querySelectorAll("label[for]").forEach(function (el) {
        el.htmlFor = el.htmlFor.replace(/-(\d+|__i__)-/, "-" + i + "-");
      });
    });
  }
  document.addEventListener("click", function (ev) {
    var add = ev.target.closest("[data-add-row]");
    if (add) {
      var group = add.closest("fieldset.group");
      var tpl = group.querySelector("template");
      var row = tpl.content.firstElementChild.cloneNode(true);
      group.querySelector(".rows").appendChild(row);
      renumber(group);
      var first = row.querySelector("input, select, textarea");
      if (first) first.focus();
      ev.preventDefault();
    }
    var remove = ev.target.closest("[data-remove-row]");
    if (remove) {
      var g = remove.closest("fieldset.group");
      remove.closest(".row").remove();
      renumber(g);
      ev.preventDefault();
    }
  });
  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (!input.matches("input[type=file][data-upload]")) return;
    var bar = document.getElementById(input.dataset.progress);
    var status = document.getElementById(input.dataset.status);
    Array.prototype.forEach.call(input.files, function (file) {
      // One key per file sent: a retry after a dropped connection cannot attach the file twice.
      sent += 1;
      upload(input, file, bar, status, input.dataset.idempotencyKey + "-" + sent, 2);
    });
  });
  var sent = 0;
  function upload(input, file, bar, status, key, retries) {
    var body = new FormData();
    body.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", input.dataset.upload);
    xhr.setRequestHeader("X-CSRF-Token", input.dataset.csrf);
    if (input.dataset.idempotencyKey) xhr.setRequestHeader("Idempotency-Key", key);
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = function () {
      var ok = xhr.status >= 200 && xhr.status < 300;
      var msg = ok ? input.dataset.okText : ((JSON.parse(xhr.responseText || "{}").detail) || xhr.statusText);
      status.textContent = file.name + ": " + msg;
      if (ok) window.setTimeout(function () { window.location.reload(); }, 400);
    };
    xhr.onerror = function () {
      if (retries > 0) window.setTimeout(function () { upload(input, file, bar, status, key, retries - 1); }, 1000);
      else status.textContent = file.name + ": " + xhr.statusText;
    };
    xhr.send(body);
  }
})();
