// Draws the case's process version with bpmn-js and marks completed, active and failed elements.
// Loaded only on the case page: the inbox never downloads the diagram library.
(function () {
  var box = document.getElementById("diagram");
  if (!box || !window.BpmnJS) return;
  var marks = JSON.parse(box.dataset.marks || "{}");
  var viewer = new window.BpmnJS({ container: box });
  fetch(box.dataset.source, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.statusText); return r.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      Object.keys(marks).forEach(function (cls) {
        marks[cls].forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, cls); });
      });
      // The engine knows elements, not flows: a flow between two reached elements was taken.
      var reached = {};
      ["done", "active", "failed"].forEach(function (cls) { (marks[cls] || []).forEach(function (id) { reached[id] = true; }); });
      registry.filter(function (el) { return el.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
        var bo = flow.businessObject;
        if ((marks.done || []).indexOf(bo.sourceRef.id) >= 0 && reached[bo.targetRef.id]) canvas.addMarker(flow.id, "done");
      });
      box.dataset.ready = "true";
    })
    .catch(function (err) {
      box.textContent = box.dataset.errorText + " (" + err.message + ")";
      box.dataset.ready = "error";
    });
})();
