// The supervisors' modeler: bpmn-js with its properties panel and Expediente's SpiffWorkflow extensions.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import SpiffPropertiesProvider from './provider';
import spiffworkflow from './spiffworkflow.json';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';

const SpiffModule = { __init__: [ 'spiffPropertiesProvider' ], spiffPropertiesProvider: [ 'type', SpiffPropertiesProvider ] };

// options: { container, panel (element for the properties panel), forms: [keys], processes: [keys] }
export function createModeler({ container, panel, forms = [], processes = [] }) {
  return new BpmnModeler({
    container,
    propertiesPanel: { parent: panel },
    additionalModules: [ BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, SpiffModule ],
    moddleExtensions: { spiffworkflow },
    spiffworkflow: { forms, processes },
  });
}

// Mark problems (from the API: {element_id, message}) on their elements; returns a function that clears them.
export function pinProblems(modeler, problems) {
  const overlays = modeler.get('overlays');
  const registry = modeler.get('elementRegistry');
  const canvas = modeler.get('canvas');
  const ids = [];
  const marked = [];
  for (const problem of problems) {
    if (!problem.element_id || !registry.get(problem.element_id)) continue;
    const badge = document.createElement('div');
    badge.className = `expediente-problem expediente-problem--${problem.severity || 'error'}`;
    badge.textContent = '!';
    badge.title = problem.message;
    ids.push(overlays.add(problem.element_id, 'expediente-problems', { position: { top: -10, right: 10 }, html: badge }));
    canvas.addMarker(problem.element_id, 'expediente-has-problem');
    marked.push(problem.element_id);
  }
  return () => {
    ids.forEach((id) => overlays.remove(id));
    marked.forEach((id) => canvas.removeMarker(id, 'expediente-has-problem'));
  };
}

// Mark a diff (from the API: {added, removed, changed}) on the diagram of the newer version.
export function markDiff(modeler, diff) {
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  for (const [ kind, list ] of [ [ 'added', diff.added ], [ 'changed', diff.changed ], [ 'removed', diff.removed ] ]) {
    for (const el of list) if (registry.get(el.id)) canvas.addMarker(el.id, `expediente-diff-${kind}`);
  }
}

window.ExpedienteModeler = { createModeler, pinProblems, markDiff };
