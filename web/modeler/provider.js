// Properties panel groups for what Expediente's engine reads from a diagram (docs/PROCESS_CONVENTIONS.md).
import { h } from '@bpmn-io/properties-panel/preact';
import {
  SelectEntry, TextAreaEntry, TextFieldEntry,
  isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { getBody, getProperty, setBody, setProperty } from './extensions';

const LOW_PRIORITY = 500;
const TIMER_KINDS = [
  { value: 'timeDuration', label: 'Duración (p. ej. "P3D")' },
  { value: 'timeDate', label: 'Fecha (p. ej. "2026-12-31T08:00:00")' },
  { value: 'timeCycle', label: 'Ciclo (p. ej. "R3/PT1H")' },
];

// -- entries: each is a small component reading and writing one thing -------------------------------------------

function PropertyField({ element, id, name, label, description }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element, id, label, description, debounce,
    getValue: () => getProperty(element, name),
    setValue: (value) => setProperty(injector, element, name, (value || '').trim()),
  });
}

function FormSelect({ element, id, forms }) {
  const injector = useService('injector');
  return h(SelectEntry, {
    element, id, label: 'Formulario',
    getValue: () => getProperty(element, 'form'),
    setValue: (value) => setProperty(injector, element, 'form', value),
    getOptions: () => {
      const current = getProperty(element, 'form');
      const known = forms.includes(current) || !current ? forms : [ current, ...forms ];
      return [ { value: '', label: '(sin formulario)' }, ...known.map((f) => ({ value: f, label: f })) ];
    },
  });
}

function BodyArea({ element, id, type, label, description, rows = 4 }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, label, description, debounce, rows, monospace: true,
    getValue: () => getBody(element, type),
    setValue: (value) => setBody(injector, element, type, value || ''),
  });
}

function LaneInfo({ element, id }) {
  const lanes = (getBusinessObject(element).get('lanes') || []).map((lane) => lane.name || lane.id);
  return h(TextFieldEntry, {
    element, id, label: 'Carril', disabled: true, debounce: (fn) => fn,
    description: 'El grupo que trabaja la tarea se asigna por carril (administración → carriles).',
    getValue: () => lanes.join(', ') || '(fuera de todo carril)', setValue: () => {},
  });
}

function ScriptText({ element, id }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, label: 'Script (Python restringido)', debounce, rows: 8, monospace: true,
    getValue: () => getBusinessObject(element).get('script') || '',
    setValue: (value) => modeling.updateProperties(element, { scriptFormat: 'python', script: value || undefined }),
  });
}

function ConditionText({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, label: 'Condición (expresión Python)', debounce, rows: 2, monospace: true,
    description: 'Ejemplo: monto > 100. La rama por defecto no lleva condición.',
    getValue: () => {
      const expr = getBusinessObject(element).get('conditionExpression');
      return expr ? expr.get('body') || '' : '';
    },
    setValue: (value) => modeling.updateProperties(element, {
      conditionExpression: value ? bpmnFactory.create('bpmn:FormalExpression', { body: value }) : undefined,
    }),
  });
}

function timerOf(element) {
  const bo = getBusinessObject(element);
  return (bo.get('eventDefinitions') || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function timerKind(timer) {
  return TIMER_KINDS.map((k) => k.value).find((k) => timer.get(k)) || 'timeDuration';
}

function TimerKind({ element, id }) {
  const injector = useService('injector');
  const bpmnFactory = useService('bpmnFactory');
  return h(SelectEntry, {
    element, id, label: 'Tipo de temporizador',
    getValue: () => timerKind(timerOf(element)),
    getOptions: () => TIMER_KINDS,
    setValue: (kind) => {
      const timer = timerOf(element);
      const old = timer.get(timerKind(timer));
      const body = old ? old.get('body') : '';
      const properties = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      properties[kind] = bpmnFactory.create('bpmn:FormalExpression', { body });
      injector.get('commandStack').execute('element.updateModdleProperties',
        { element, moddleElement: timer, properties });
    },
  });
}

function TimerExpression({ element, id }) {
  const injector = useService('injector');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element, id, label: 'Expresión del temporizador', debounce,
    description: 'Un texto ISO 8601 entre comillas, o una expresión Python.',
    getValue: () => {
      const timer = timerOf(element);
      const expr = timer.get(timerKind(timer));
      return expr ? expr.get('body') || '' : '';
    },
    setValue: (value) => {
      const timer = timerOf(element);
      injector.get('commandStack').execute('element.updateModdleProperties', {
        element, moddleElement: timer,
        properties: { [timerKind(timer)]: bpmnFactory.create('bpmn:FormalExpression', { body: value || '' }) },
      });
    },
  });
}

function CalledProcess({ element, id, processes }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const getValue = () => getBusinessObject(element).get('calledElement') || '';
  const setValue = (value) => modeling.updateProperties(element, { calledElement: value || undefined });
  if (!processes.length) {
    return h(TextFieldEntry, { element, id, label: 'Procedimiento llamado', debounce, getValue, setValue });
  }
  return h(SelectEntry, {
    element, id, label: 'Procedimiento llamado', getValue, setValue,
    getOptions: () => [ { value: '', label: '(elija)' }, ...processes.map((p) => ({ value: p, label: p })) ],
  });
}

// -- groups ---------------------------------------------------------------------------------------------------------

function entry(id, component, isEdited, extra = {}) {
  return { id, component, isEdited, ...extra };
}

function groupsFor(element, config) {
  const groups = [];
  const bo = getBusinessObject(element);
  const isHuman = is(element, 'bpmn:UserTask') || is(element, 'bpmn:ManualTask');
  const isProcessStart = is(element, 'bpmn:StartEvent') && is(bo.$parent, 'bpmn:Process');
  if (is(element, 'bpmn:FlowNode') && !is(element, 'bpmn:SequenceFlow')) {
    groups.push({ id: 'spiff-lane', label: 'Carril', entries: [ entry('spiff-lane', LaneInfo, isTextFieldEntryEdited) ] });
  }
  if (isHuman || isProcessStart) {
    const entries = [ entry('spiff-form', FormSelect, isSelectEntryEdited, { forms: config.forms || [] }) ];
    if (isHuman) {
      entries.push(entry('spiff-deadline', PropertyField, isTextFieldEntryEdited, {
        name: 'deadlineWorkingDays', label: 'Plazo (días hábiles)',
        description: 'Número de días hábiles, o el nombre de un plazo configurado.',
      }));
      entries.push(entry('spiff-instructions', BodyArea, isTextAreaEntryEdited, {
        type: 'spiffworkflow:InstructionsForEndUser', label: 'Instrucciones adicionales',
        description: 'Se muestran si la tarea no tiene documentación.',
      }));
    }
    groups.push({ id: 'spiff-form', label: 'Formulario y plazo', entries });
  }
  if (is(element, 'bpmn:Activity')) {
    groups.push({ id: 'spiff-scripts', label: 'Scripts antes / después', entries: [
      entry('spiff-prescript', BodyArea, isTextAreaEntryEdited, { type: 'spiffworkflow:PreScript', label: 'Antes' }),
      entry('spiff-postscript', BodyArea, isTextAreaEntryEdited, { type: 'spiffworkflow:PostScript', label: 'Después' }),
    ] });
  }
  if (is(element, 'bpmn:ScriptTask')) {
    groups.push({ id: 'spiff-script', label: 'Script', entries: [ entry('spiff-script', ScriptText, isTextAreaEntryEdited) ] });
  }
  if (is(element, 'bpmn:SequenceFlow') && bo.sourceRef &&
      (is(bo.sourceRef, 'bpmn:ExclusiveGateway') || is(bo.sourceRef, 'bpmn:InclusiveGateway'))) {
    groups.push({ id: 'spiff-condition', label: 'Condición', entries: [
      entry('spiff-condition', ConditionText, isTextAreaEntryEdited) ] });
  }
  if (is(element, 'bpmn:Event') && timerOf(element)) {
    groups.push({ id: 'spiff-timer', label: 'Temporizador', entries: [
      entry('spiff-timer-kind', TimerKind, isSelectEntryEdited),
      entry('spiff-timer-expression', TimerExpression, isTextFieldEntryEdited),
    ] });
  }
  if (is(element, 'bpmn:CallActivity')) {
    groups.push({ id: 'spiff-called', label: 'Procedimiento llamado', entries: [
      entry('spiff-called', CalledProcess, isSelectEntryEdited, { processes: config.processes || [] }) ] });
  }
  if (is(element, 'bpmn:BusinessRuleTask')) {
    groups.push({ id: 'spiff-decision', label: 'Decisión (DMN)', entries: [
      entry('spiff-decision', BodyArea, isTextAreaEntryEdited,
        { type: 'spiffworkflow:CalledDecisionId', label: 'Id de la decisión', rows: 1 }) ] });
  }
  const sendsMessage = is(element, 'bpmn:SendTask') || (is(element, 'bpmn:ThrowEvent') &&
    (bo.get('eventDefinitions') || []).some((d) => is(d, 'bpmn:MessageEventDefinition')));
  const receivesMessage = is(element, 'bpmn:ReceiveTask') || (is(element, 'bpmn:CatchEvent') &&
    (bo.get('eventDefinitions') || []).some((d) => is(d, 'bpmn:MessageEventDefinition')));
  if (sendsMessage || receivesMessage) {
    groups.push({ id: 'spiff-message', label: 'Mensaje', entries: [ sendsMessage
      ? entry('spiff-payload', BodyArea, isTextAreaEntryEdited, { type: 'spiffworkflow:MessagePayload', label: 'Contenido (expresión)' })
      : entry('spiff-variable', BodyArea, isTextAreaEntryEdited, { type: 'spiffworkflow:MessageVariable', label: 'Variable que lo recibe', rows: 1 }) ] });
  }
  return groups;
}

export default class SpiffPropertiesProvider {
  constructor(propertiesPanel, config) {
    this._config = config || {};
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
  }

  getGroups(element) {
    return (groups) => {
      const ours = groupsFor(element, this._config);
      // Keep the general group (name, id) first, then ours, then the rest of the BPMN groups.
      const general = groups.findIndex((g) => g.id === 'general');
      groups.splice(general + 1, 0, ...ours);
      return groups;
    };
  }
}

SpiffPropertiesProvider.$inject = [ 'propertiesPanel', 'config.spiffworkflow' ];
