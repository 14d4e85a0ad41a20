// The supervisors' modeler: bpmn-js with its properties panel and Expediente's SpiffWorkflow extensions.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import { translateModule } from './i18n';
import { hideUnknown, restoreUnknown } from './preserve';
import SpiffPropertiesProvider from './provider';
import spiffworkflow from './spiffworkflow.json';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';

const SpiffModule = { __init__: [ 'spiffPropertiesProvider' ], spiffPropertiesProvider: [ 'type', SpiffPropertiesProvider ] };

// options: { container, panel (element for the properties panel), forms: [keys], processes: [keys], documents:
// [{ key, title }] (the kinds a task may issue), operators: [{ name, title, returns, parameters }] (what a service
// task may call: engine/language/operators.py), locale (the
// page's <html lang>: "es..." shows the palette, menus and properties panel in Spanish, anything else in English) }
export function createModeler({ container, panel, forms = [], processes = [], documents = [], operators = [],
  locale = 'es' }) {
  return new BpmnModeler({
    container,
    propertiesPanel: { parent: panel },
    additionalModules: [
      BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, SpiffModule, translateModule(locale) ],
    moddleExtensions: { spiffworkflow },
    spiffworkflow: { forms, processes, documents, operators },
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

// A read-only diagram (zoom and scroll) that understands the same extensions, for comparing versions.
export function createViewer({ container, locale = 'es' }) {
  return new NavigatedViewer({ container, moddleExtensions: { spiffworkflow }, additionalModules: [ translateModule(locale) ] });
}

// Import XML into a modeler or viewer. SpiffWorkflow extensions our descriptor does not define are parked in a
// foreign namespace first, so bpmn-moddle keeps them instead of dropping them; exportDiagram puts them back.
export function importDiagram(instance, xml) {
  return instance.importXML(hideUnknown(xml, spiffworkflow));
}

export async function exportDiagram(modeler) {
  const { xml } = await modeler.saveXML({ format: true });
  return restoreUnknown(xml);
}

// Mark a diff (from the API: {added, removed, changed}) on one side of a comparison: the old diagram shows what
// was removed, the new one what was added; both show what changed. Returns a function that clears the marks.
export function markDiff(instance, diff, side = 'new') {
  const canvas = instance.get('canvas');
  const registry = instance.get('elementRegistry');
  const kinds = [ [ 'changed', diff.changed ], side === 'old' ? [ 'removed', diff.removed ] : [ 'added', diff.added ] ];
  const marked = [];
  for (const [ kind, list ] of kinds) {
    for (const el of list) {
      if (registry.get(el.id)) {
        canvas.addMarker(el.id, `expediente-diff-${kind}`);
        marked.push([ el.id, `expediente-diff-${kind}` ]);
      }
    }
  }
  return () => marked.forEach(([ id, marker ]) => registry.get(id) && canvas.removeMarker(id, marker));
}

window.ExpedienteModeler = { createModeler, createViewer, importDiagram, exportDiagram, pinProblems, markDiff };
