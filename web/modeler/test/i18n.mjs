// The modeler's Spanish (web/modeler/i18n.js): the translate function, our provider's texts, and the texts of the
// installed bpmn-js, diagram-js and properties panels. Every library text is looked for in node_modules too, so an
// upgrade that renames or adds texts fails here instead of showing English to supervisors.
// Run: node web/modeler/test/i18n.mjs (exits non-zero on failure).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const modeler = join(here, '..');
const modules = join(modeler, '..', '..', 'node_modules');

// i18n.js is an ES module inside a CommonJS package: bundle it (as `npm run build` does) and import the result.
// esbuild warns about duplicate keys in the dictionary; any warning fails the test.
const bundled = await build({
  entryPoints: [ join(modeler, 'i18n.js') ], bundle: true, write: false, format: 'esm', logLevel: 'silent',
});
assert.deepEqual(bundled.warnings.map((w) => w.text), [], 'i18n.js bundles without warnings');
const { ES, createTranslate, isSpanish, translateModule } = await import(
  `data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`);

let checks = 0;
function check(condition, message) {
  assert.ok(condition, message);
  checks += 1;
}

// -- (a) the translate function -----------------------------------------------------------------------------------

const es = createTranslate('es');
const en = createTranslate('en');
check(es('Append task') === 'Agregar tarea', 'a known text is translated');
check(es('Open {element}', { element: 'Revisar solicitud' }) === 'Abrir Revisar solicitud', 'placeholders are filled');
check(es('List contains {numOfItems} items', { numOfItems: 0 }) === 'La lista contiene 0 elementos', 'zero is a value');
check(es('Open {element}') === 'Abrir {element}', 'a placeholder without a value stays as written');
check(es('No such text, {who}', { who: 'Ana' }) === 'No such text, Ana', 'an unknown text falls back to the template');
check(es('toString') === 'toString' && es('constructor') === 'constructor', 'only the dictionary\'s own keys count');
check(en('Append task') === 'Append task', 'English shows the template');
check(en('Open {element}', { element: 'Revisar' }) === 'Open Revisar', 'English fills placeholders too');
check(es(undefined) === undefined, 'a missing template is passed through');
for (const locale of [ 'es', 'es-GT', 'es_GT', 'ES', undefined, '' ]) {
  check(isSpanish(locale), `${JSON.stringify(locale)} is Spanish`);
}
for (const locale of [ 'en', 'en-US', 'fr' ]) check(!isSpanish(locale), `${locale} is English`);
check(createTranslate('es-GT')('Delete') === 'Eliminar', 'es-GT is Spanish');
const module = translateModule('en');
check(module.translate[0] === 'value' && module.translate[1]('Delete') === 'Delete', 'the module overrides translate');

// Every entry keeps its key's placeholders and is neither empty nor padded.
const placeholders = (text) => (text.match(/{[^}]+}/g) || []).sort().join(' ');
for (const [ key, value ] of Object.entries(ES)) {
  check(typeof value === 'string' && value.trim() === value && value !== '', `entry for ${JSON.stringify(key)}`);
  check(placeholders(key) === placeholders(value), `${JSON.stringify(key)} keeps its placeholders`);
}

// -- (b) every text of our provider.js -------------------------------------------------------------------------------

const provider = readFileSync(join(modeler, 'provider.js'), 'utf8');
const code = provider.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
const calls = [ ...code.matchAll(/\btranslate\(/g) ].length;
const ours = [ ...code.matchAll(/\btranslate\(\s*'((?:\\.|[^'\\])*)'\s*\)/g) ].map((m) => m[1].replace(/\\(.)/g, '$1'));
check(calls > 20 && ours.length === calls,
  `provider.js passes only plain string literals to translate() (${ours.length} of ${calls} calls)`);
for (const text of ours) check(Object.hasOwn(ES, text), `provider.js: no Spanish for ${JSON.stringify(text)}`);
const untranslated = [ ...(code.match(/'[^'\n]*[áéíóúñÁÉÍÓÚÑ¿¡][^'\n]*'/g) || []),
  ...(code.match(/\b(?:label|description):\s*['"`][^'"`\n]*['"`]/g) || []) ];
check(untranslated.length === 0, `provider.js shows texts without translate(): ${untranslated.join(', ')}`);

// -- (c) the libraries' texts ----------------------------------------------------------------------------------------

function files(path) {
  if (!statSync(path).isDirectory()) return [ path ];
  return readdirSync(path).flatMap((name) => files(join(path, name))).filter((f) => /\.js$/.test(f));
}
function read(path) {
  return readFileSync(join(modules, path), 'utf8');
}
// The string literals passed whole to translate(...) / this._translate(...) in the given sources, comments left out;
// `prefixes` collects literals that are only the start of a concatenation ('Align elements ' + alignment).
function translatedIn(paths) {
  const whole = new Set();
  const prefixes = new Set();
  for (const file of paths.flatMap((p) => files(join(modules, p)))) {
    const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const m of source.matchAll(/(?:\b|_)translate\d*\(\s*(['"])((?:\\.|(?!\1)[^\\])*)\1\s*([),+])/g)) {
      (m[3] === '+' ? prefixes : whole).add(m[2].replace(/\\(.)/g, '$1'));
    }
  }
  return { whole, prefixes };
}

const canvas = translatedIn([ 'bpmn-js/lib', 'diagram-js/lib' ]);
const frame = translatedIn([ '@bpmn-io/properties-panel/dist/index.esm.js' ]);
const panel = translatedIn([ 'bpmn-js-properties-panel/dist/index.esm.js' ]);

// The replace menu ("Change element") passes each option's label through translate().
check(/label:\s*translate\(label\)/.test(read('bpmn-js/lib/features/popup-menu/ReplaceMenuProvider.js')),
  'bpmn-js ReplaceMenuProvider translates the replace options\' labels');
const replaceOptions = read('bpmn-js/lib/features/replace/ReplaceOptions.js');
const replaceLabels = new Set([ ...replaceOptions.matchAll(/label:\s*'([^']+)'/g) ].map((m) => m[1]));
for (const m of replaceOptions.matchAll(/var label = '([^']+)';\s*[\s\S]*?label \+= '([^']+)'/g)) {
  replaceLabels.add(m[1]).add(m[1] + m[2]);  // 'Empty pool/participant' (+ ' (removes content)')
}
check(replaceLabels.size > 60, `found the replace menu's labels (${replaceLabels.size})`);

// The properties panel header names the element's type: its concrete type (e.g. TimerStartEventNonInterrupting)
// spelled out ("Timer Start Event (Non Interrupting)") and translated.
const panelSource = read('bpmn-js-properties-panel/dist/index.esm.js');
const spellOut = "translate(concreteType.replace(/(\\B[A-Z])/g, ' $1').replace(/(\\bNon Interrupting)/g, '($1)'))";
check(panelSource.includes(spellOut),
  'bpmn-js-properties-panel still spells out the header type this way');
const iconsByType = panelSource.match(/var iconsByType = \{([\s\S]*?)\n\};/);
check(iconsByType, 'bpmn-js-properties-panel still lists its header types in iconsByType');
const headerTypes = [ ...iconsByType[1].matchAll(/^\s*'?([A-Za-z]+)'?:/gm) ]
  .map((m) => m[1].replace(/(\B[A-Z])/g, ' $1').replace(/(\bNon Interrupting)/g, '($1)'));
check(headerTypes.length > 100, `found the header types (${headerTypes.length})`);

// The BPMN provider's own texts: the bundle's part up to its module (the Camunda and Zeebe providers follow).
const bpmnProviderEnd = panelSource.indexOf("bpmnPropertiesProvider: ['type', BpmnPropertiesProvider]");
check(bpmnProviderEnd > 0, 'bpmn-js-properties-panel still defines its BPMN provider module this way');
const bpmnProvider = new Set([ ...panelSource.slice(0, bpmnProviderEnd).replace(/\/\*[\s\S]*?\*\//g, '')
  .matchAll(/\btranslate\(\s*'((?:\\.|[^'\\])*)'\s*[),]/g) ].map((m) => m[1]));
check(bpmnProvider.size > 50, `found the BPMN provider's texts (${bpmnProvider.size})`);

// The texts supervisors see most: each must still be a translated text of the installed libraries, and in ES.
const VISIBLE = [
  // palette
  'Activate hand tool', 'Activate lasso tool', 'Activate create/remove space tool', 'Activate global connect tool',
  'Create start event', 'Create intermediate/boundary event', 'Create end event', 'Create gateway', 'Create task',
  'Create data object reference', 'Create data store reference', 'Create expanded sub-process',
  'Create pool/participant', 'Create group',
  // context pad
  'Append end event', 'Append gateway', 'Append task', 'Append intermediate/boundary event', 'Change element',
  'Delete', 'Connect to other element', 'Add text annotation', 'Add lane above', 'Add lane below',
  'Divide into two lanes', 'Divide into three lanes', 'Search in diagram',
  // replace menu
  'Task', 'User task', 'Manual task', 'Script task', 'Service task', 'Business rule task', 'Send task',
  'Receive task', 'Call activity', 'Sub-process (collapsed)', 'Sub-process (expanded)', 'Exclusive gateway',
  'Parallel gateway', 'Inclusive gateway', 'Event-based gateway', 'Start event', 'Message start event',
  'Timer start event', 'Timer intermediate catch event', 'Message intermediate catch event',
  'Message intermediate throw event', 'Timer boundary event', 'Timer boundary event (non-interrupting)',
  'Message boundary event', 'Error boundary event', 'End event', 'Message end event', 'Terminate end event',
  'Sequence flow', 'Default flow', 'Conditional flow', 'Loop', 'Parallel multi-instance', 'Sequential multi-instance',
  // properties panel
  'General', 'Name', 'ID', 'Process name', 'Process ID', 'Executable', 'Documentation', 'Element documentation',
  'Process documentation', 'ID must be unique.', 'ID must not be empty.', 'ID must not contain spaces.',
  'ID must be a valid QName.', 'ID must not contain prefix.', 'Message', 'Global message reference', 'Signal',
  'Error', 'Escalation', 'Timer', 'Type', 'Value', 'Date', 'Duration', 'Cycle', 'Condition', 'Multi-instance',
  'Loop cardinality', 'Completion condition', 'Compensation', 'Wait for completion', 'Activity reference',
  '<none>', 'Create new ...', 'Select an element to edit its properties.',
  // properties panel header
  'User Task', 'Exclusive Gateway', 'Start Event', 'Timer Intermediate Catch Event', 'Sequence Flow', 'Lane',
  'Participant', 'Call Activity', 'Collapsed Sub Process', 'Text Annotation',
];
const libraryTexts = new Set([ ...canvas.whole, ...frame.whole, ...panel.whole, ...replaceLabels, ...headerTypes ]);
for (const text of VISIBLE) {
  check(libraryTexts.has(text), `${JSON.stringify(text)} is no longer a translated text of the installed libraries`);
  check(Object.hasOwn(ES, text), `no Spanish for ${JSON.stringify(text)}`);
}

// And everything on the canvas, in the replace menu, in the panel's header and frame and in its BPMN provider.
const missing = [];
const wanted = [ ...canvas.whole, ...replaceLabels, ...headerTypes, ...frame.whole, ...bpmnProvider ]
  .filter((text) => !text.includes('${'))  // template literals: their expansions are listed in ES by hand
  .filter((text) => text !== 'HELLO {you}');  // diagram-js's example in translate.js
for (const text of new Set(wanted)) if (!Object.hasOwn(ES, text)) missing.push(text);
check(missing.length === 0, `no Spanish for these library texts: ${JSON.stringify(missing)}`);
for (const prefix of canvas.prefixes) {
  check(Object.keys(ES).some((key) => key.startsWith(prefix) && key !== prefix), `no Spanish for ${prefix}...`);
}
const alignments = read('bpmn-js/lib/features/align-elements/AlignElementsMenuProvider.js')
  .match(/ALIGNMENT_OPTIONS = \[([^\]]*)\]/)[1].match(/'[a-z]+'/g).map((s) => s.slice(1, -1));
for (const a of alignments) check(Object.hasOwn(ES, `Align elements ${a}`), `no Spanish for "Align elements ${a}"`);

// Texts the libraries translate through a variable or an expression, each with the code that does it.
const INDIRECT = {
  'flow elements must be children of pools/participants': [
    'bpmn-js/lib/features/modeling-feedback/ModelingFeedback.js',
    "var COLLAB_ERR_MSG = 'flow elements must be children of pools/participants';", 'translate(COLLAB_ERR_MSG)' ],
  'Participant ID': [ 'bpmn-js-properties-panel/dist/index.esm.js',
    "translate(is(element, 'bpmn:Participant') ? 'Participant ID' : 'ID')" ],
};
for (const [ text, [ path, ...snippets ] ] of Object.entries(INDIRECT)) {
  const source = read(path);
  check(snippets.every((s) => source.includes(s)), `${path} no longer translates ${JSON.stringify(text)} this way`);
  check(Object.hasOwn(ES, text), `no Spanish for ${JSON.stringify(text)}`);
}

// ES holds nothing that is neither ours nor a library's (a stale entry hides a rename).
const known = new Set([ ...ours, ...libraryTexts, ...Object.keys(INDIRECT),
  ...alignments.map((a) => `Align elements ${a}`),
  'List contains {numOfItems} item', 'List contains {numOfItems} items', 'JSON contains errors',
  'Click to set a dynamic value with FEEL expression', 'Click to remove dynamic value with FEEL expression' ]);
const stale = Object.keys(ES).filter((key) => !known.has(key));
check(stale.length === 0, `entries in ES that no code translates: ${JSON.stringify(stale)}`);

console.log(`i18n: ${Object.keys(ES).length} Spanish entries; ${new Set(ours).size} texts in provider.js; `
  + `${checks} checks passed`);
