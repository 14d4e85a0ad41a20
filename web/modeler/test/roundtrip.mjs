// A BPMN file with our SpiffWorkflow extensions and a foreign one: importing and exporting keeps both.
// Run: node web/modeler/test/roundtrip.mjs (exits non-zero on failure).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

console.log('roundtrip: SpiffWorkflow and foreign extensions survive import and export');
