// The form editor (web/templates/pages/form_editor.html, form_editor_list.html): edits a form's JSON Schema in
// place (what the editor does not show, such as conditions and the office's own keywords, is kept as it is),
// shows it as the clerk will see it through the server (POST .../preview draws it with the task page's fragment),
// saves it into the draft and publishes the draft. No inline scripts: the page's data is a JSON <script> block.
(function () {
  "use strict";
  var configEl = document.getElementById("form-editor-config");
  if (!configEl) return;
  var cfg = JSON.parse(configEl.textContent);
  var t = cfg.t;

  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function api(method, path, body) {
    return fetch("/api/drafts/" + encodeURIComponent(cfg.key) + path, {
      method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": cfg.csrf},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.text().then(function (text) {
        var parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
        return {status: r.status, ok: r.ok, body: parsed};
      });
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "checked" || k === "value" || k === "hidden" || k === "disabled") node[k] = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  // -- publishing the draft (the list page) ------------------------------------------------------------------
  var publish = document.getElementById("publish");
  if (publish) {
    publish.addEventListener("click", function () {
      var status = document.getElementById("publish-status");
      var list = document.getElementById("publish-problems");
      var comment = document.getElementById("publish-comment").value.trim();
      list.textContent = "";
      if (!comment) { status.textContent = t.comment_needed; return; }
      publish.disabled = true;
      api("POST", "/publish", {comment: comment, revision: cfg.revision}).then(function (res) {
        publish.disabled = false;
        if (res.ok) { status.textContent = fmt(t.published, {version: res.body.version}); return; }
        status.textContent = res.status === 422 ? t.refused : (res.body && res.body.detail) || fmt(t.error_status, {status: res.status});
        ((res.body && res.body.errors) || []).forEach(function (p) { list.appendChild(el("li", {text: p.message})); });
      });
    });
  }
  if (!cfg.form) return;

  // -- the form's fields -------------------------------------------------------------------------------------
  var schema = JSON.parse(cfg.schema_json);  // as text: the fields keep their order
  var added = new WeakSet();   // fields added in this visit: their key may still change
  var fieldsBox = document.getElementById("fe-fields");
  var preview = document.getElementById("fe-preview");
  var problemsList = document.getElementById("fe-problems");
  var status = document.getElementById("fe-status");
  var titleInput = document.getElementById("fe-title");
  var problemsByPath = {};
  var SHAPE_KEYS = ["type", "format", "enum", "items", "properties", "required", "x-multilinea", "x-fecha",
                    "x-etiquetas", "minLength", "maxLength", "pattern", "x-mensaje", "minimum", "maximum",
                    "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "uniqueItems", "default", "const",
                    "additionalProperties"];

  function typeOf(p) {
    return Array.isArray(p.type) ? p.type.filter(function (x) { return x !== "null"; })[0] : p.type;
  }

  function kindOf(p) {  // as web/schema_form.py's _kind reads it
    var type = typeOf(p);
    if (type === "array") {
      var items = p.items || {};
      if (items.type === "object") return "grupo";
      return items.enum ? "varias" : "otro";
    }
    if (type === "object" || (!type && p.properties)) return p.properties ? "objeto" : "otro";
    if (p.enum) return type === "string" ? "opciones" : "otro";
    if (type === "boolean") return "sino";
    if (type === "integer") return "entero";
    if (type === "number") return "numero";
    if (type === "string") {
      if (p.format === "date" || p.format === "date-not-past") return "fecha";
      if (p.format === "date-time") return "fechahora";
      if (p.format === "email") return "correo";
      if (p["x-multilinea"] || (p.maxLength || 0) > 200) return "largo";
      return "texto";
    }
    return "otro";
  }

  function setKind(p, kind) {
    var options = optionLines(p);
    SHAPE_KEYS.forEach(function (k) { delete p[k]; });
    var shapes = {
      texto: {type: "string"}, largo: {type: "string", "x-multilinea": true}, numero: {type: "number"},
      entero: {type: "integer"}, fecha: {type: "string", format: "date"},
      fechahora: {type: "string", format: "date-time"}, sino: {type: "boolean"},
      correo: {type: "string", format: "email"}, opciones: {type: "string"},
      varias: {type: "array", items: {type: "string"}, uniqueItems: true},
      grupo: {type: "array", items: {type: "object", properties: {campo_1: {title: t.new_label, type: "string"}},
                                     required: [], additionalProperties: false}},
      objeto: {type: "object", properties: {campo_1: {title: t.new_label, type: "string"}}, required: [],
               additionalProperties: false}
    };
    Object.assign(p, JSON.parse(JSON.stringify(shapes[kind])));
    if (kind === "grupo") added.add(p.items.properties.campo_1);  // a new group's first field: its key may change
    if (kind === "objeto") added.add(p.properties.campo_1);
    if (kind === "opciones" || kind === "varias") setOptions(p, options.length ? options : [t.new_option]);
  }

  function optionTarget(p) { return typeOf(p) === "array" ? (p.items || {}) : p; }

  function optionLines(p) {
    var target = optionTarget(p);
    var labels = target["x-etiquetas"] || {};
    return (target.enum || []).map(function (v) { return labels[String(v)] || String(v); });
  }

  function setOptions(p, lines) {  // each line is an option's label; a label already known keeps its value
    var target = optionTarget(p);
    var labels = target["x-etiquetas"] || {};
    var byLabel = {};
    (target.enum || []).forEach(function (v) { byLabel[labels[String(v)] || String(v)] = v; });
    var values = [], kept = {};
    lines.map(function (s) { return s.trim(); }).filter(Boolean).forEach(function (line) {
      var value = Object.prototype.hasOwnProperty.call(byLabel, line) ? byLabel[line] : line;
      values.push(value);
      if (String(value) !== line) kept[String(value)] = line;
    });
    target.enum = values;
    if (Object.keys(kept).length) target["x-etiquetas"] = kept; else delete target["x-etiquetas"];
  }

  function renameKey(parent, oldKey, newKey) {
    var props = {};
    Object.keys(parent.properties).forEach(function (k) { props[k === oldKey ? newKey : k] = parent.properties[k]; });
    parent.properties = props;
    if (Array.isArray(parent.required)) {
      parent.required = parent.required.map(function (k) { return k === oldKey ? newKey : k; });
    }
  }

  function move(parent, key, delta) {
    var keys = Object.keys(parent.properties);
    var i = keys.indexOf(key), j = i + delta;
    if (j < 0 || j >= keys.length) return;
    keys.splice(i, 1);
    keys.splice(j, 0, key);
    var props = {};
    keys.forEach(function (k) { props[k] = parent.properties[k]; });
    parent.properties = props;
  }

  function removeField(parent, key) {
    delete parent.properties[key];
    if (Array.isArray(parent.required)) {
      parent.required = parent.required.filter(function (k) { return k !== key; });
      if (!parent.required.length) delete parent.required;
    }
  }

  function setRequired(parent, key, on) {
    var req = Array.isArray(parent.required) ? parent.required.filter(function (k) { return k !== key; }) : [];
    if (on) req.push(key);
    if (req.length) parent.required = req; else delete parent.required;
  }

  function freeKey(parent) {
    for (var n = Object.keys(parent.properties || {}).length + 1; ; n++) {
      if (!(parent.properties || {})["campo_" + n]) return "campo_" + n;
    }
  }

  function addField(parent) {
    parent.properties = parent.properties || {};
    var key = freeKey(parent);
    var prop = {title: t.new_label, type: "string"};
    added.add(prop);
    parent.properties[key] = prop;
    render();
    var input = document.querySelector('[data-path="' + pathOf(parent, key) + '"] .fe-label');
    if (input) { input.focus(); input.select(); }
    changed();
  }

  var paths = new WeakMap();  // parent object → its path prefix
  function pathOf(parent, key) { return (paths.get(parent) || "") + key; }

  function labeled(id, text, input) {
    return el("div", {}, [el("label", {"for": id, text: text}), input]);
  }

  function select(id, options, value) {
    var node = el("select", {id: id});
    Object.keys(options).forEach(function (v) {
      node.appendChild(el("option", {value: v, text: options[v]}));
    });
    node.value = value;
    return node;
  }

  function fieldRow(parent, key) {
    var p = parent.properties[key];
    var path = pathOf(parent, key);
    var id = "fe-" + path.replace(/\//g, "--");
    var kind = kindOf(p);
    var row = el("div", {"class": "fe-field", "data-path": path});
    var grid = el("div", {"class": "fe-grid"});
    row.appendChild(grid);

    var keyInput = el("input", {type: "text", id: id + "-key", value: key, "class": "fe-key", maxlength: "64",
                                spellcheck: "false"});
    if (!added.has(p)) keyInput.readOnly = true;
    keyInput.addEventListener("change", function () {
      var next = keyInput.value.trim();
      if (next === key || !next || (parent.properties[next] && next !== key)) { keyInput.value = key; return; }
      renameKey(parent, key, next);
      render(); changed();
    });
    grid.appendChild(labeled(id + "-key", t.key, keyInput));

    var label = el("input", {type: "text", id: id + "-label", value: p.title || "", "class": "fe-label",
                             maxlength: "200"});
    label.addEventListener("input", function () {
      if (label.value.trim()) p.title = label.value; else delete p.title;
      changed();
    });
    grid.appendChild(labeled(id + "-label", t.label, label));

    var types = Object.assign({}, t.types);
    if (kind !== "otro") delete types.otro;
    var typeSelect = select(id + "-type", types, kind);
    typeSelect.classList.add("fe-type");
    typeSelect.disabled = kind === "otro";
    typeSelect.addEventListener("change", function () { setKind(p, typeSelect.value); render(); changed(); });
    grid.appendChild(labeled(id + "-type", t.type, typeSelect));

    if (kind === "texto") {
      var validator = select(id + "-validator", t.validators, ["cui", "nit", "phone-gt"].indexOf(p.format) >= 0 ? p.format : "");
      validator.classList.add("fe-validator");
      validator.addEventListener("change", function () {
        if (validator.value) p.format = validator.value; else delete p.format;
        changed();
      });
      grid.appendChild(labeled(id + "-validator", t.validator, validator));
    }
    if (kind === "fecha" || kind === "fechahora") {
      var dates = Object.assign({}, t.dates);
      if (kind === "fechahora") delete dates.futura;
      var current = p.format === "date-not-past" ? "futura" : (p["x-fecha"] === "pasada" ? "pasada" : "");
      var when = select(id + "-validator", dates, current);
      when.classList.add("fe-validator");
      when.addEventListener("change", function () {
        delete p["x-fecha"];
        p.format = kind === "fechahora" ? "date-time" : (when.value === "futura" ? "date-not-past" : "date");
        if (when.value === "pasada") p["x-fecha"] = "pasada";
        changed();
      });
      grid.appendChild(labeled(id + "-validator", t.validator, when));
    }

    var help = el("input", {type: "text", id: id + "-help", value: p.description || "", "class": "fe-help",
                            maxlength: "500"});
    help.addEventListener("input", function () {
      if (help.value.trim()) p.description = help.value; else delete p.description;
      changed();
    });
    grid.appendChild(labeled(id + "-help", t.help, help));

    var required = el("input", {type: "checkbox", id: id + "-required", "class": "fe-required",
                                checked: (parent.required || []).indexOf(key) >= 0});
    required.addEventListener("change", function () { setRequired(parent, key, required.checked); changed(); });
    grid.appendChild(el("div", {}, [el("label", {"for": id + "-required"}, [required, document.createTextNode(" " + t.required)])]));

    if (kind === "opciones" || kind === "varias") {
      var options = el("textarea", {id: id + "-options", "class": "fe-options", rows: "4"});
      options.value = optionLines(p).join("\n");
      options.addEventListener("input", function () { setOptions(p, options.value.split("\n")); changed(); });
      row.appendChild(labeled(id + "-options", t.options, options));
    }
    if (kind === "grupo" || kind === "objeto") {  // its fields, edited as the form's (a group: one row's)
      var items = kind === "grupo" ? p.items : p;
      paths.set(items, path + "/");
      var group = el("div", {"class": "fe-group"});
      Object.keys(items.properties || {}).forEach(function (k) { group.appendChild(fieldRow(items, k)); });
      var addSub = el("button", {type: "button", "class": "secondary fe-add-sub", text: t.add_sub});
      addSub.addEventListener("click", function () { addField(items); });
      group.appendChild(addSub);
      row.appendChild(group);
    }
    var problem = problemsByPath[path];
    if (problem) {
      row.classList.add("has-problem");
      row.insertBefore(el("p", {"class": "fe-problem", role: "alert", text: problem}), grid);
    }

    var actions = el("div", {"class": "fe-actions"});
    [[t.up, function () { move(parent, key, -1); }], [t.down, function () { move(parent, key, 1); }],
     [t.remove, function () { removeField(parent, key); }]].forEach(function (pair, i) {
      var b = el("button", {type: "button", "class": "secondary " + ["fe-up", "fe-down", "fe-remove"][i],
                            text: pair[0], "aria-label": pair[0] + " «" + (p.title || key) + "»"});
      b.addEventListener("click", function () { pair[1](); render(); changed(); });
      actions.appendChild(b);
    });
    row.appendChild(actions);
    return row;
  }

  function render() {
    paths.set(schema, "");
    fieldsBox.textContent = "";
    Object.keys(schema.properties || {}).forEach(function (k) { fieldsBox.appendChild(fieldRow(schema, k)); });
  }

  function showProblems(problems) {
    problemsByPath = {};
    problemsList.textContent = "";
    (problems || []).forEach(function (p) {
      var field = p.field || "(formulario)";
      if (!(field in problemsByPath)) problemsByPath[field] = p.message;
      problemsList.appendChild(el("li", {text: field + ": " + p.message}));
    });
    document.querySelectorAll(".fe-field").forEach(function (row) {
      var message = problemsByPath[row.getAttribute("data-path")];
      var shown = row.querySelector(":scope > .fe-problem");
      if (shown) shown.remove();
      row.classList.toggle("has-problem", !!message);
      if (message) row.insertBefore(el("p", {"class": "fe-problem", role: "alert", text: message}), row.firstChild);
    });
  }

  // -- live preview ------------------------------------------------------------------------------------------
  var timer = null, sequence = 0;
  function changed() {
    status.textContent = t.unsaved;
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, 300);
  }

  function refreshPreview() {
    var mine = ++sequence;
    api("POST", "/forms/" + encodeURIComponent(cfg.form) + "/preview", {schema: schema}).then(function (res) {
      if (mine !== sequence) return;  // a newer change is on its way
      if (!res.ok) {
        showProblems((res.body && res.body.errors) || [{field: "(formulario)",
          message: (res.body && res.body.detail) || fmt(t.error_status, {status: res.status})}]);
        return;
      }
      showProblems(res.body.problems);
      if (res.body.valid) {
        preview.innerHTML = res.body.html;  // drawn by the server with the task page's own fragment
        preview.removeAttribute("data-stale");
      } else {
        preview.setAttribute("data-stale", "");
        preview.title = t.preview_problems;
      }
      preview.setAttribute("data-sequence", String(mine));
    });
  }

  preview.addEventListener("submit", function (ev) { ev.preventDefault(); });

  titleInput.value = schema.title || "";
  titleInput.addEventListener("input", function () {
    if (titleInput.value.trim()) schema.title = titleInput.value; else delete schema.title;
    changed();
  });
  document.getElementById("fe-add").addEventListener("click", function () { addField(schema); });

  document.getElementById("fe-save").addEventListener("click", function () {
    clearTimeout(timer);
    var save = document.getElementById("fe-save");
    save.disabled = true;
    api("PUT", "/forms/" + encodeURIComponent(cfg.form), {schema: schema, revision: cfg.revision}).then(function (res) {
      save.disabled = false;
      if (res.ok) {
        cfg.revision = res.body.revision;
        showProblems([]);
        status.textContent = fmt(t.saved, {revision: res.body.revision});
        document.getElementById("fe-undo").hidden = false;
        refreshPreview();
        return;
      }
      if (res.status === 400 && res.body && res.body.errors) {
        showProblems(res.body.errors);
        status.textContent = t.save_refused;
        return;
      }
      status.textContent = res.status === 409 ? fmt(t.conflict, {message: (res.body && res.body.detail) || ""})
        : (res.body && res.body.detail) || fmt(t.error_status, {status: res.status});
    });
  });

  document.getElementById("fe-undo").addEventListener("click", function () {
    if (!window.confirm(t.confirm_undo)) return;
    api("DELETE", "/forms/" + encodeURIComponent(cfg.form)).then(function (res) {
      if (res.ok) { status.textContent = t.undone; window.location.reload(); }
      else status.textContent = (res.body && res.body.detail) || fmt(t.error_status, {status: res.status});
    });
  });

  render();
})();
