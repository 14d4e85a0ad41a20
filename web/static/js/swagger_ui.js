// Starts Swagger UI on /api/docs with the settings the page carries as JSON (a file, not an inline script,
// so the Content-Security-Policy allows it).
window.addEventListener("load", function () {
  var config = JSON.parse(document.getElementById("swagger-ui-config").textContent);
  window.ui = SwaggerUIBundle(config);
});
