// Reading and writing SpiffWorkflow extension elements through the modeler's command stack (undoable).
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

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
