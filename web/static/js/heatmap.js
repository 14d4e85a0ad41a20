// Draws a procedure version with bpmn-js and paints it as a heat map: each element's fill and each flow's stroke
// and width come from the page's JSON (#heatmap-paint, computed by the server); the legend's swatches likewise.
// Loaded only on /informes/mapa-de-calor. The same figures are in the page's tables.
(function () {
  document.querySelectorAll(".legend .swatch[data-fill]").forEach(function (s) {
    s.style.backgroundColor = s.dataset.fill;
  });
  var box = document.getElementById("heatmap");
  var data = document.getElementById("heatmap-paint");
  if (!box || !data || !window.BpmnJS) return;
  var paint = JSON.parse(data.textContent || "{}") || {};
  var viewer = new window.BpmnJS({ container: box });
  function shapeOf(gfx) {
    var visual = gfx && gfx.querySelector(".djs-visual");
    return visual && visual.querySelector("rect, circle, polygon, path");
  }
  fetch(box.dataset.source, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.statusText); return r.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      Object.keys(paint.elements || {}).forEach(function (id) {
        var el = registry.get(id);
        var shape = el && shapeOf(registry.getGraphics(el));
        if (!shape) return;
        shape.style.fill = paint.elements[id];
        shape.setAttribute("data-heat-fill", paint.elements[id]);
      });
      Object.keys(paint.flows || {}).forEach(function (id) {
        var el = registry.get(id);
        var line = el && registry.getGraphics(el).querySelector(".djs-visual path");
        if (!line) return;
        line.style.stroke = paint.flows[id].stroke;
        line.style.strokeWidth = paint.flows[id].width + "px";
        line.setAttribute("data-heat-width", paint.flows[id].width);
      });
      box.dataset.ready = "true";
    })
    .catch(function (err) {
      box.textContent = box.dataset.errorText + " (" + err.message + ")";
      box.dataset.ready = "error";
    });
})();
