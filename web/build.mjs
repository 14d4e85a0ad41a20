// Copies the browser builds of the npm packages into web/static/vendor (git-ignored) and bundles our own
// modeler (web/modeler: bpmn-js + properties panel + SpiffWorkflow extensions) with esbuild.
// Run by `make run` / `make test` through `npm run build`; nothing minified is committed.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "web", "static", "vendor");
const copies = [
  ["node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js", "bpmn-js/bpmn-navigated-viewer.js"],
  ["node_modules/bpmn-js/dist/bpmn-modeler.production.min.js", "bpmn-js/bpmn-modeler.js"],
  ["node_modules/bpmn-js/dist/assets/bpmn-js.css", "bpmn-js/bpmn-js.css"],
  ["node_modules/bpmn-js/dist/assets/diagram-js.css", "bpmn-js/diagram-js.css"],
  ["node_modules/bpmn-js/dist/assets/bpmn-font", "bpmn-js/bpmn-font"],
  // The decision-table editor (/modelador/<key>/decisiones/<file>): dmn-js's modeler and its stylesheets and font.
  ["node_modules/dmn-js/dist/dmn-modeler.production.min.js", "dmn-js/dmn-modeler.js"],
  ["node_modules/dmn-js/dist/assets", "dmn-js/assets"],
  // The API's interactive docs (/api/docs) load these instead of a CDN the office may not reach.
  ["node_modules/swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
  ["node_modules/swagger-ui-dist/swagger-ui-standalone-preset.js", "swagger-ui/swagger-ui-standalone-preset.js"],
  ["node_modules/swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
];

rmSync(vendor, { recursive: true, force: true });
for (const [from, to] of copies) {
  const target = join(vendor, to);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(root, from), target, { recursive: true });
}
console.log(`vendor files copied to ${vendor}`);

// The supervisors' modeler: one script (window.ExpedienteModeler) and one stylesheet beside it.
await build({
  entryPoints: [join(root, "web", "modeler", "index.js")],
  outfile: join(vendor, "modeler", "modeler.js"),
  bundle: true,
  format: "iife",
  target: ["es2020"],
  minify: true,
  legalComments: "linked",
  loader: { ".svg": "dataurl", ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".eot": "dataurl" },
  logLevel: "warning",
});
console.log(`modeler bundled into ${join(vendor, "modeler")}`);
