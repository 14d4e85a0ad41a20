// A BPMN file with our SpiffWorkflow extensions and a foreign one: importing and exporting keeps both; with
// preserve.js around import and export, so do SpiffWorkflow extensions our descriptor does not define.
// Run: node web/modeler/test/roundtrip.mjs (exits non-zero on failure).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import BpmnModdle from 'bpmn-moddle';

const here = dirname(fileURLToPath(import.meta.url));
const spiffworkflow = JSON.parse(readFileSync(join(here, '..', 'spiffworkflow.json'), 'utf8'));

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" xmlns:otro="urn:otro:herramienta"
  id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:userTask id="t" name="Revisar" otro:color="azul">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="form" value="revision_completitud" />
          <spiffworkflow:property name="deadlineWorkingDays" value="5" />
        </spiffworkflow:properties>
        <spiffworkflow:preScript>x = 1</spiffworkflow:preScript>
        <spiffworkflow:unitTests>
          <spiffworkflow:unitTest id="prueba1">
            <spiffworkflow:inputJson>{"a": 1}</spiffworkflow:inputJson>
            <spiffworkflow:expectedOutputJson>{"a": 2}</spiffworkflow:expectedOutputJson>
          </spiffworkflow:unitTest>
        </spiffworkflow:unitTests>
        <otro:nota autor="ana">Texto de otra herramienta</otro:nota>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:serviceTask id="s">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="http/GetRequest" resultVariable="r">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="url" type="str" value="url_base" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:multiInstanceLoopCharacteristics spiffworkflow:scriptsOnInstances="true">
        <bpmn:loopCardinality>3</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:serviceTask>
    <bpmn:businessRuleTask id="b">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>tarifa</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
  </bpmn:process>
</bpmn:definitions>`;

const moddle = new BpmnModdle({ spiffworkflow });
const { rootElement, warnings } = await moddle.fromXML(XML);
assert.deepEqual(warnings, []);

const task = rootElement.rootElements[0].flowElements.find((e) => e.id === 't');
const [ props, pre, tests, foreign ] = task.extensionElements.values;
assert.equal(props.$type, 'spiffworkflow:Properties');
assert.deepEqual(props.properties.map((p) => [ p.name, p.value ]),
  [ [ 'form', 'revision_completitud' ], [ 'deadlineWorkingDays', '5' ] ]);
assert.equal(pre.$type, 'spiffworkflow:PreScript');
assert.equal(pre.value, 'x = 1');
assert.equal(tests.$type, 'spiffworkflow:UnitTests');
assert.equal(foreign.$type, 'otro:nota');  // a namespace the descriptor does not know: kept as $any

// An edit like the properties panel makes, then a save.
props.properties[0].value = 'licencia_dictamen';
const { xml } = await moddle.toXML(rootElement, { format: true });
for (const kept of [
  '<spiffworkflow:property name="form" value="licencia_dictamen" />',
  '<spiffworkflow:property name="deadlineWorkingDays" value="5" />',
  '<spiffworkflow:preScript>x = 1</spiffworkflow:preScript>',
  '<spiffworkflow:inputJson>{"a": 1}</spiffworkflow:inputJson>',
  '<spiffworkflow:serviceTaskOperator id="http/GetRequest" resultVariable="r">',
  '<spiffworkflow:parameter id="url" type="str" value="url_base" />',
  'spiffworkflow:scriptsOnInstances="true"',
  '<otro:nota autor="ana">Texto de otra herramienta</otro:nota>',
  'otro:color="azul"',
  '<spiffworkflow:calledDecisionId>tarifa</spiffworkflow:calledDecisionId>',
]) {
  assert.ok(xml.includes(kept), `lost on save: ${kept}\n${xml}`);
}
// An element of OUR namespace that the descriptor does not define is NOT kept (bpmn-moddle drops it with a
// warning): the page must show import warnings and refuse a silent save. This pins that behaviour down.
const odd = XML.replace('<spiffworkflow:preScript>x = 1</spiffworkflow:preScript>',
  '<spiffworkflow:inventado>y</spiffworkflow:inventado>');
const second = await moddle.fromXML(odd);
assert.equal(second.warnings.length, 1);
assert.match(second.warnings[0].message, /spiffworkflow:inventado/);

// preserve.js hides such elements and attributes from moddle (a placeholder namespace it keeps as foreign)
// and puts them back after the export. It is an ES module in a package without "type": "module": importing
// its text spares node the "reparsing as ES module" warning (and older node 20 releases an error).
const { SPIFF_NS, knownSpiffNames, hideUnknown, restoreUnknown } = await import('data:text/javascript;base64,'
  + readFileSync(join(here, '..', 'preserve.js')).toString('base64'));
const dom = { DOMParser, XMLSerializer };
const BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL';

const known = knownSpiffNames(spiffworkflow);
for (const name of [ 'preScript', 'properties', 'property', 'unitTest', 'inputJson', 'serviceTaskOperator' ]) {
  assert.ok(known.elements.has(name), `known element ${name}`);
}
assert.ok(!known.elements.has('PreScript') && !known.elements.has('inventado') && !known.elements.has('multiInstance'));
for (const name of [ 'name', 'value', 'resultVariable', 'scriptsOnInstances' ]) {
  assert.ok(known.attributes.has(name), `known attribute ${name}`);
}
assert.ok(!known.attributes.has('colorInventado'));

// Import (hidden), the same edit as above, export (restored); returns the saved text and its DOM.
async function cycle(text) {
  const hidden = hideUnknown(text, spiffworkflow, dom);
  const imported = await moddle.fromXML(hidden);
  assert.deepEqual(imported.warnings, [], `import warnings for\n${hidden}`);
  const task = imported.rootElement.rootElements[0].flowElements.find((e) => e.id === 't');
  task.extensionElements.values.find((v) => v.$type === 'spiffworkflow:Properties').properties[0].value =
    'licencia_dictamen';
  const saved = restoreUnknown((await moddle.toXML(imported.rootElement, { format: true })).xml, dom);
  assert.doesNotMatch(saved, /urn:expediente:preserved/, saved);
  return { saved, doc: new DOMParser().parseFromString(saved, 'text/xml') };
}

const only = (doc, ns, localName) => {
  const found = doc.getElementsByTagNameNS(ns, localName);
  assert.equal(found.length, 1, `one <{${ns}}${localName}>`);
  return found[0];
};
const childElements = (el) => Array.from(el.childNodes).filter((n) => n.nodeType === 1);

// The unknown extensions, back in the SpiffWorkflow namespace (under the prefix the file used), with their
// text and attributes, where they were; the edit and the known extensions there too.
function checkKept({ saved, doc }, prefix) {
  const task = Array.from(doc.getElementsByTagNameNS(BPMN_NS, 'userTask')).find((t) => t.getAttribute('id') === 't');
  assert.equal(task.getAttributeNS(SPIFF_NS, 'colorInventado'), 'rojo', saved);
  const invented = only(doc, SPIFF_NS, 'inventado');
  assert.equal(invented.prefix, prefix);
  assert.equal(invented.parentNode.localName, 'extensionElements');
  assert.equal(invented.parentNode.parentNode, task);
  assert.equal(invented.getAttribute('foo'), '1');  // no namespace, as in the file
  assert.equal(invented.getAttributeNS(SPIFF_NS, 'nivel'), 'alto', saved);
  const [ child ] = childElements(invented);
  assert.equal(child.namespaceURI, SPIFF_NS);
  assert.equal(child.localName, 'hijo');
  assert.equal(child.textContent, 'y');
  assert.equal(childElements(invented).length, 1);
  // an attribute of ours that moddle knows, but not on this element (moddle would write it without prefix)
  assert.equal(only(doc, SPIFF_NS, 'preScript').getAttributeNS(SPIFF_NS, 'name'), 'previo', saved);
  assert.equal(only(doc, SPIFF_NS, 'preScript').textContent, 'x = 1');
  const props = Array.from(doc.getElementsByTagNameNS(SPIFF_NS, 'property'))
    .map((p) => [ p.getAttribute('name'), p.getAttribute('value') ]);
  assert.deepEqual(props, [ [ 'form', 'licencia_dictamen' ], [ 'deadlineWorkingDays', '5' ] ]);
  assert.equal(only(doc, SPIFF_NS, 'calledDecisionId').textContent, 'tarifa');
  assert.equal(only(doc, SPIFF_NS, 'inputJson').textContent, '{"a": 1}');
  assert.equal(only(doc, BPMN_NS, 'multiInstanceLoopCharacteristics').getAttributeNS(SPIFF_NS, 'scriptsOnInstances'),
    'true');
  assert.equal(only(doc, 'urn:otro:herramienta', 'nota').getAttribute('autor'), 'ana');
  assert.equal(task.getAttributeNS('urn:otro:herramienta', 'color'), 'azul');
}

const unknown = XML
  .replace('<spiffworkflow:preScript>', '<spiffworkflow:preScript spiffworkflow:name="previo">')
  .replace('otro:color="azul">', 'otro:color="azul" spiffworkflow:colorInventado="rojo">')
  .replace('<otro:nota', '<spiffworkflow:inventado foo="1" spiffworkflow:nivel="alto">'
    + '<spiffworkflow:hijo>y</spiffworkflow:hijo></spiffworkflow:inventado>\n        <otro:nota');
assert.notEqual(unknown, XML);
// Without preserve.js all three are lost or mangled (with warnings).
assert.equal((await moddle.fromXML(unknown)).warnings.length, 3);
checkKept(await cycle(unknown), 'spiffworkflow');

// The same file binding the namespace to another prefix.
const spiff = unknown.replaceAll('spiffworkflow:', 'spiff:').replace('xmlns:spiff:', 'xmlns:spiff=')
  .replace('xmlns:spiffworkflow=', 'xmlns:spiff=');
assert.doesNotMatch(spiff, /spiffworkflow:/);
checkKept(await cycle(spiff), 'spiff');

// BPMN as the default namespace, and the unknown element declaring ours as its own default namespace.
const defaults = unknown.replace(/(<\/?)bpmn:/g, '$1').replace('xmlns:bpmn=', 'xmlns=')
  .replace(/<spiffworkflow:inventado (.*?)<\/spiffworkflow:inventado>/s,
    '<inventado xmlns="http://spiffworkflow.org/bpmn/schema/1.0/core" $1</inventado>')
  .replace('<spiffworkflow:hijo>y</spiffworkflow:hijo>', '<hijo>y</hijo>');
assert.match(defaults, /<userTask id="t".*<inventado xmlns=.*<hijo>y<\/hijo><\/inventado>/s);
checkKept(await cycle(defaults), 'spiffworkflow');

// A file that binds our namespace only on the unknown element: the saved file declares it on the root.
const local = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="${BPMN_NS}" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="p"><bpmn:task id="t"><bpmn:extensionElements>
    <sw:inventado xmlns:sw="${SPIFF_NS}" sw:nivel="alto"><sw:hijo>y</sw:hijo></sw:inventado>
  </bpmn:extensionElements></bpmn:task></bpmn:process>
</bpmn:definitions>`;
{
  const imported = await moddle.fromXML(hideUnknown(local, spiffworkflow, dom));
  assert.deepEqual(imported.warnings, []);
  const saved = restoreUnknown((await moddle.toXML(imported.rootElement, { format: true })).xml, dom);
  assert.doesNotMatch(saved, /urn:expediente:preserved/);
  const doc = new DOMParser().parseFromString(saved, 'text/xml');
  const invented = only(doc, SPIFF_NS, 'inventado');
  assert.equal(invented.getAttributeNS(SPIFF_NS, 'nivel'), 'alto');
  assert.equal(only(doc, SPIFF_NS, 'hijo').textContent, 'y');
  assert.equal(doc.documentElement.lookupNamespaceURI(invented.prefix), SPIFF_NS, saved);
}

// Still lost: an unknown element inside a known one (moddle keeps foreign elements only where its type allows
// any element, e.g. extensionElements). hideUnknown leaves it be, so the warning names it as the file does.
{
  const nested = unknown.replace('<spiffworkflow:property name="form"',
    '<spiffworkflow:raro>z</spiffworkflow:raro><spiffworkflow:property name="form"');
  const { warnings } = await moddle.fromXML(hideUnknown(nested, spiffworkflow, dom));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, /<spiffworkflow:raro>/);
}

// Nothing unknown: hideUnknown changes nothing (same text, same model), restoreUnknown adds nothing.
assert.equal(hideUnknown(XML, spiffworkflow, dom), XML);
const plain = (await moddle.toXML((await moddle.fromXML(XML)).rootElement, { format: true })).xml;
assert.equal(restoreUnknown(plain, dom), plain);
const spiffPlain = XML.replaceAll('spiffworkflow:', 'spiff:').replace('xmlns:spiffworkflow=', 'xmlns:spiff=');
assert.equal(hideUnknown(spiffPlain, spiffworkflow, dom), spiffPlain);

// Not XML (or not well-formed): both hand the text back for bpmn-js to report.
for (const bad of [ '', 'no es XML', XML.replace('</bpmn:process>', ''),
  '<a xmlns:k="urn:expediente:preserved:spiffworkflow"><k:b></a>' ]) {
  assert.equal(hideUnknown(bad, spiffworkflow, dom), bad);
  assert.equal(restoreUnknown(bad, dom), bad);
}

// A service task as the properties panel writes it (extensions.js setOperator/setResultVariable/setParameter, with
// service.js for text parameters): the operator, its result variable and its parameters survive export and import,
// and a text parameter is the Python string literal of what the supervisor typed.
const { pythonText, literalText, shownText, typedText } = await import('data:text/javascript;base64,'
  + readFileSync(join(here, '..', 'service.js')).toString('base64'));
const TEXTS = [ 'Su trámite', `it's "quoted"`, 'línea 1\nlínea 2\ttab \\ barra \\n', '=no es expresión' ];
for (const text of TEXTS) {
  assert.equal(literalText(pythonText(text)), text, `literal of ${JSON.stringify(text)}`);
}
for (const text of TEXTS.slice(0, 3)) assert.equal(shownText(typedText(text)), text);
assert.equal(pythonText(`it's`), `'it\\'s'`);
assert.equal(literalText('"doble"'), 'doble');
for (const expression of [ 'nombre', "f'{x}'", "'a' + b", "'\\x41'", "r'a'", "'sin cerrar" ]) {
  assert.equal(literalText(expression), null, expression);
}
assert.equal(typedText('= solicitante.correo'), 'solicitante.correo');
assert.equal(shownText('solicitante.correo'), '=solicitante.correo');
assert.equal(typedText('   '), '');
{
  const SERVICE = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="${BPMN_NS}" xmlns:spiffworkflow="${SPIFF_NS}" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="p" isExecutable="true"><bpmn:serviceTask id="aviso" name="Avisar" /></bpmn:process>
</bpmn:definitions>`;
  const typed = { para: [ 'expression', 'solicitante_correo' ], asunto: [ 'text', 'Su trámite "listo"' ],
    cuerpo: [ 'text', "Estimado(a):\nsu trámite está listo.\tGracias, it's done" ] };
  const loaded = await moddle.fromXML(SERVICE);
  const serviceTask = loaded.rootElement.rootElements[0].flowElements[0];
  const operator = moddle.create('spiffworkflow:ServiceTaskOperator', { id: 'enviar_correo', resultVariable: 'aviso' });
  operator.parameterList = moddle.create('spiffworkflow:Parameters', { parameters: Object.entries(typed).map(
    ([ id, [ kind, value ] ]) => moddle.create('spiffworkflow:Parameter',
      { id, type: 'any', value: kind === 'text' ? typedText(value) : value })) });
  serviceTask.extensionElements = moddle.create('bpmn:ExtensionElements', { values: [ operator ] });
  const saved = (await moddle.toXML(loaded.rootElement, { format: true })).xml;
  assert.ok(saved.includes('<spiffworkflow:serviceTaskOperator id="enviar_correo" resultVariable="aviso">'), saved);
  assert.ok(saved.includes('<spiffworkflow:parameter id="para" type="any" value="solicitante_correo" />'), saved);
  const doc = new DOMParser().parseFromString(saved, 'text/xml');
  assert.equal(only(doc, SPIFF_NS, 'parameters').parentNode.localName, 'serviceTaskOperator');

  const again = await moddle.fromXML(hideUnknown(saved, spiffworkflow, dom));
  assert.deepEqual(again.warnings, []);
  const [ back ] = again.rootElement.rootElements[0].flowElements[0].extensionElements.values;
  assert.equal(back.$type, 'spiffworkflow:ServiceTaskOperator');
  assert.deepEqual([ back.id, back.resultVariable ], [ 'enviar_correo', 'aviso' ]);
  const params = Object.fromEntries(back.parameterList.parameters.map((p) => [ p.id, [ p.type, p.value ] ]));
  assert.deepEqual(Object.keys(params), [ 'para', 'asunto', 'cuerpo' ]);
  assert.deepEqual(params.para, [ 'any', 'solicitante_correo' ]);
  assert.equal(shownText(params.asunto[1]), typed.asunto[1]);
  assert.equal(shownText(params.cuerpo[1]), typed.cuerpo[1]);
  assert.equal(restoreUnknown((await moddle.toXML(again.rootElement, { format: true })).xml, dom), saved);
}

console.log('roundtrip: SpiffWorkflow and foreign extensions survive import and export, unknown ones too; service tasks with parameters');
