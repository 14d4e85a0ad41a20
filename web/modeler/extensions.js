// Reading and writing SpiffWorkflow extension elements through the modeler's command stack (undoable).
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { PARAMETER_TYPE } from './service';

export const MULTI = 'properties-panel.multi-command-executor';

export function extensionsOf(bo, type) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values').filter((value) => is(value, type)) : [];
}

export function getProperty(element, name) {
  const [ props ] = extensionsOf(getBusinessObject(element), 'spiffworkflow:Properties');
  const found = props && props.get('properties').find((p) => p.get('name') === name);
  return found ? found.get('value') : '';
}

export function getBody(element, type) {
  const [ found ] = extensionsOf(getBusinessObject(element), type);
  return found ? found.get('value') || '' : '';
}

// The commands that give `bo` an extensionElements container, and that container.
function ensureExtensions(element, bo, bpmnFactory, commands) {
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push(update(element, bo, { extensionElements: ext }));
  }
  return ext;
}

function update(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

// Set (or remove, when value is empty) one spiffworkflow:property of the element.
export function setProperty(injector, element, name, value) {
  const bpmnFactory = injector.get('bpmnFactory');
  const bo = getBusinessObject(element);
  const commands = [];
  const ext = ensureExtensions(element, bo, bpmnFactory, commands);
  let [ props ] = extensionsOf(bo, 'spiffworkflow:Properties');
  if (!props) {
    if (!value) return;
    props = bpmnFactory.create('spiffworkflow:Properties', { properties: [] });
    props.$parent = ext;
    commands.push(update(element, ext, { values: [ ...ext.get('values'), props ] }));
  }
  const list = props.get('properties');
  const existing = list.find((p) => p.get('name') === name);
  if (!value) {
    if (existing) commands.push(update(element, props, { properties: list.filter((p) => p !== existing) }));
  } else if (existing) {
    commands.push(update(element, existing, { value }));
  } else {
    const prop = bpmnFactory.create('spiffworkflow:Property', { name, value });
    prop.$parent = props;
    commands.push(update(element, props, { properties: [ ...list, prop ] }));
  }
  if (commands.length) injector.get('commandStack').execute(MULTI, commands);
}

// Set (or remove, when value is empty) a body extension such as spiffworkflow:preScript.
export function setBody(injector, element, type, value) {
  const bpmnFactory = injector.get('bpmnFactory');
  const bo = getBusinessObject(element);
  const commands = [];
  const [ existing ] = extensionsOf(bo, type);
  if (!value) {
    if (!existing) return;
    const ext = bo.get('extensionElements');
    commands.push(update(element, ext, { values: ext.get('values').filter((v) => v !== existing) }));
  } else if (existing) {
    commands.push(update(element, existing, { value }));
  } else {
    const ext = ensureExtensions(element, bo, bpmnFactory, commands);
    const created = bpmnFactory.create(type, { value });
    created.$parent = ext;
    commands.push(update(element, ext, { values: [ ...ext.get('values'), created ] }));
  }
  injector.get('commandStack').execute(MULTI, commands);
}

// -- service tasks: spiffworkflow:serviceTaskOperator id="<operator>" resultVariable="<name>" with its
// spiffworkflow:parameters (engine/language/operators.py declares what each operator takes) -----------------------

export function getOperator(element) {
  const [ found ] = extensionsOf(getBusinessObject(element), 'spiffworkflow:ServiceTaskOperator');
  return found;
}

export function operatorParameters(operator) {
  const list = operator && operator.get('parameterList');
  return list ? list.get('parameters') : [];
}

export function getParameter(element, name) {
  const found = operatorParameters(getOperator(element)).find((p) => p.get('id') === name);
  return found ? found.get('value') || '' : '';
}

// Choose the operator (or none, removing it). `accepted`: the parameters the new operator takes; the others are
// dropped, since the lint refuses them (null keeps them all).
export function setOperator(injector, element, name, accepted) {
  const bpmnFactory = injector.get('bpmnFactory');
  const bo = getBusinessObject(element);
  const commands = [];
  const existing = getOperator(element);
  if (!name) {
    if (!existing) return;
    const ext = bo.get('extensionElements');
    commands.push(update(element, ext, { values: ext.get('values').filter((v) => v !== existing) }));
  } else if (existing) {
    commands.push(update(element, existing, { id: name }));
    const list = existing.get('parameterList');
    if (list && accepted) {
      const kept = list.get('parameters').filter((p) => accepted.includes(p.get('id')));
      if (kept.length !== list.get('parameters').length) commands.push(update(element, list, { parameters: kept }));
    }
  } else {
    const ext = ensureExtensions(element, bo, bpmnFactory, commands);
    const created = bpmnFactory.create('spiffworkflow:ServiceTaskOperator', { id: name });
    created.$parent = ext;
    commands.push(update(element, ext, { values: [ ...ext.get('values'), created ] }));
  }
  injector.get('commandStack').execute(MULTI, commands);
}

export function setResultVariable(injector, element, value) {
  const operator = getOperator(element);
  if (!operator) return;
  injector.get('commandStack').execute(MULTI, [ update(element, operator, { resultVariable: value || undefined }) ]);
}

// Set (or remove, when value is empty) one parameter's expression.
export function setParameter(injector, element, name, value) {
  const bpmnFactory = injector.get('bpmnFactory');
  const operator = getOperator(element);
  if (!operator) return;
  const commands = [];
  let list = operator.get('parameterList');
  if (!list) {
    if (!value) return;
    list = bpmnFactory.create('spiffworkflow:Parameters', { parameters: [] });
    list.$parent = operator;
    commands.push(update(element, operator, { parameterList: list }));
  }
  const params = list.get('parameters');
  const existing = params.find((p) => p.get('id') === name);
  if (!value) {
    if (existing) commands.push(update(element, list, { parameters: params.filter((p) => p !== existing) }));
  } else if (existing) {
    commands.push(update(element, existing, { value, type: existing.get('type') || PARAMETER_TYPE }));
  } else {
    const created = bpmnFactory.create('spiffworkflow:Parameter', { id: name, type: PARAMETER_TYPE, value });
    created.$parent = list;
    commands.push(update(element, list, { parameters: [ ...params, created ] }));
  }
  if (commands.length) injector.get('commandStack').execute(MULTI, commands);
}
