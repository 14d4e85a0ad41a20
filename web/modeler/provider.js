// Properties panel groups for what Expediente's engine reads from a diagram (docs/PROCESS_CONVENTIONS.md).
// Texts are written in English and passed, as literals, through bpmn-js's `translate` service; their Spanish is in
// i18n.js (web/modeler/test/i18n.mjs checks every `translate('...')` here has an entry there).
import { h } from '@bpmn-io/properties-panel/preact';
import {
  SelectEntry, TextAreaEntry, TextFieldEntry,
  isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import {
  getBody, getOperator, getParameter, getProperty, operatorParameters, setBody, setOperator, setParameter,
  setProperty, setResultVariable,
} from './extensions';
import { shownText, typedText } from './service';

const LOW_PRIORITY = 500;
const TIMER_KINDS = [ 'timeDuration', 'timeDate', 'timeCycle' ];

function timerKindOptions(translate) {
  return [
    { value: 'timeDuration', label: translate('Duration (e.g. "P3D")') },
    { value: 'timeDate', label: translate('Date (e.g. "2026-12-31T08:00:00")') },
    { value: 'timeCycle', label: translate('Cycle (e.g. "R3/PT1H")') },
  ];
}

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
  const translate = useService('translate');
  return h(SelectEntry, {
    element, id, label: translate('Form'),
    getValue: () => getProperty(element, 'form'),
    setValue: (value) => setProperty(injector, element, 'form', value),
    getOptions: () => {
      const current = getProperty(element, 'form');
      const known = forms.includes(current) || !current ? forms : [ current, ...forms ];
      return [ { value: '', label: translate('(no form)') }, ...known.map((f) => ({ value: f, label: f })) ];
    },
  });
}

// The document a task issues when completed (engine/documents/kinds.py): [{ key, title }] from the page.
function DocumentSelect({ element, id, documents }) {
  const injector = useService('injector');
  const translate = useService('translate');
  return h(SelectEntry, {
    element, id, label: translate('Document it issues'),
    getValue: () => getProperty(element, 'document'),
    setValue: (value) => setProperty(injector, element, 'document', value),
    getOptions: () => {
      const current = getProperty(element, 'document');
      const known = documents.some((d) => d.key === current) || !current ? documents
        : [ { key: current, title: current }, ...documents ];
      return [ { value: '', label: translate('(none)') }, ...known.map((d) => ({ value: d.key, label: d.title })) ];
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
  const translate = useService('translate');
  const lanes = (getBusinessObject(element).get('lanes') || []).map((lane) => lane.name || lane.id);
  return h(TextFieldEntry, {
    element, id, label: translate('Lane'), disabled: true, debounce: (fn) => fn,
    description: translate('The group that works on the task is assigned per lane (administration → lanes).'),
    getValue: () => lanes.join(', ') || translate('(outside any lane)'), setValue: () => {},
  });
}

function ScriptText({ element, id }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const translate = useService('translate');
  return h(TextAreaEntry, {
    element, id, label: translate('Script (restricted Python)'), debounce, rows: 8, monospace: true,
    getValue: () => getBusinessObject(element).get('script') || '',
    setValue: (value) => modeling.updateProperties(element, { scriptFormat: 'python', script: value || undefined }),
  });
}

function ConditionText({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  const translate = useService('translate');
  return h(TextAreaEntry, {
    element, id, label: translate('Condition (Python expression)'), debounce, rows: 2, monospace: true,
    description: translate('Example: amount > 100. The default branch has no condition.'),
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
  return TIMER_KINDS.find((k) => timer.get(k)) || 'timeDuration';
}

function TimerKind({ element, id }) {
  const injector = useService('injector');
  const bpmnFactory = useService('bpmnFactory');
  const translate = useService('translate');
  return h(SelectEntry, {
    element, id, label: translate('Timer type'),
    getValue: () => timerKind(timerOf(element)),
    getOptions: () => timerKindOptions(translate),
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
  const translate = useService('translate');
  return h(TextFieldEntry, {
    element, id, label: translate('Timer expression'), debounce,
    description: translate('A quoted ISO 8601 text, or a Python expression.'),
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
  const translate = useService('translate');
  const label = translate('Called procedure');
  const getValue = () => getBusinessObject(element).get('calledElement') || '';
  const setValue = (value) => modeling.updateProperties(element, { calledElement: value || undefined });
  if (!processes.length) {
    return h(TextFieldEntry, { element, id, label, debounce, getValue, setValue });
  }
  return h(SelectEntry, {
    element, id, label, getValue, setValue,
    getOptions: () => [
      { value: '', label: translate('(choose)') }, ...processes.map((p) => ({ value: p, label: p })) ],
  });
}

// A service task's operator, from those the engine declares (engine/language/operators.py): [{ name, title,
// returns, parameters: [{ name, required, description, kind }] }] from the page.
function operatorLabel(operator) {
  return operator.title && operator.title !== operator.name ? `${operator.title} (${operator.name})` : operator.name;
}

function OperatorSelect({ element, id, operators }) {
  const injector = useService('injector');
  const translate = useService('translate');
  const current = () => { const op = getOperator(element); return op ? op.get('id') || '' : ''; };
  return h(SelectEntry, {
    element, id, label: translate('Operation'),
    getValue: current,
    setValue: (name) => {
      const declared = operators.find((o) => o.name === name);
      setOperator(injector, element, name, declared ? declared.parameters.map((p) => p.name) : null);
    },
    getOptions: () => {
      const now = current();
      const known = operators.some((o) => o.name === now) || !now ? operators : [ { name: now }, ...operators ];
      return [ { value: '', label: translate('(choose)') }, ...known.map((o) => ({ value: o.name, label: operatorLabel(o) })) ];
    },
  });
}

function ResultVariable({ element, id, returns }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const translate = useService('translate');
  const description = returns ? `${translate('Where the answer is stored; its shape:')} ${returns}` : undefined;
  return h(TextFieldEntry, {
    element, id, label: translate('Result variable'), description, debounce,
    getValue: () => { const op = getOperator(element); return op ? op.get('resultVariable') || '' : ''; },
    setValue: (value) => setResultVariable(injector, element, (value || '').trim()),
  });
}

// One parameter: a Python expression; a "text" parameter is edited as plain text (see service.js).
function ParameterField({ element, id, parameter, unknown }) {
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const translate = useService('translate');
  const text = parameter.kind === 'text';
  const how = text ? translate('Plain text; start with = to write a Python expression.')
    : translate('A Python expression over the case data, e.g. a field name or a quoted text.');
  const description = unknown ? translate('This operation does not take this parameter: empty it to remove it.')
    : [ parameter.description, parameter.required ? translate('Required.') : translate('Optional.'), how ].join(' ');
  const label = parameter.required ? `${parameter.name} *` : parameter.name;
  return h(text ? TextAreaEntry : TextFieldEntry, {
    element, id, label, description, debounce, rows: 2, monospace: !text,
    getValue: () => (text ? shownText(getParameter(element, parameter.name)) : getParameter(element, parameter.name)),
    setValue: (value) => setParameter(injector, element, parameter.name,
      text ? typedText(value) : (value || '').trim()),
  });
}

function serviceEntries(element, operators) {
  const entries = [ entry('spiff-operator', OperatorSelect, isSelectEntryEdited, { operators }) ];
  const operator = getOperator(element);
  if (!operator) return entries;
  const declared = operators.find((o) => o.name === operator.get('id'));
  entries.push(entry('spiff-result-variable', ResultVariable, isTextFieldEntryEdited,
    { returns: declared ? declared.returns : '' }));
  const names = new Set();
  for (const parameter of declared ? declared.parameters : []) {
    names.add(parameter.name);
    entries.push(entry(`spiff-parameter-${parameter.name}`, ParameterField,
      parameter.kind === 'text' ? isTextAreaEntryEdited : isTextFieldEntryEdited, { parameter }));
  }
  // Parameters in the file that the operator does not take (the lint refuses them): shown, to be emptied.
  for (const found of operatorParameters(operator)) {
    const name = found.get('id');
    if (!name || names.has(name)) continue;
    names.add(name);
    entries.push(entry(`spiff-parameter-${name}`, ParameterField, isTextFieldEntryEdited,
      { parameter: { name, required: false, kind: 'expression' }, unknown: true }));
  }
  return entries;
}

// -- groups ---------------------------------------------------------------------------------------------------------

function entry(id, component, isEdited, extra = {}) {
  return { id, component, isEdited, ...extra };
}

function groupsFor(element, config, translate) {
  const groups = [];
  const bo = getBusinessObject(element);
  const isHuman = is(element, 'bpmn:UserTask') || is(element, 'bpmn:ManualTask');
  const isProcessStart = is(element, 'bpmn:StartEvent') && is(bo.$parent, 'bpmn:Process');
  if (is(element, 'bpmn:FlowNode') && !is(element, 'bpmn:SequenceFlow')) {
    groups.push({ id: 'spiff-lane', label: translate('Lane'), entries: [ entry('spiff-lane', LaneInfo, isTextFieldEntryEdited) ] });
  }
  if (isHuman || isProcessStart) {
    const entries = [ entry('spiff-form', FormSelect, isSelectEntryEdited, { forms: config.forms || [] }) ];
    if (isHuman) {
      entries.push(entry('spiff-deadline', PropertyField, isTextFieldEntryEdited, {
        name: 'deadlineWorkingDays', label: translate('Deadline (working days)'),
        description: translate('Number of working days, or the name of a configured deadline.'),
      }));
      entries.push(entry('spiff-document', DocumentSelect, isSelectEntryEdited, { documents: config.documents || [] }));
      entries.push(entry('spiff-document-each', PropertyField, isTextFieldEntryEdited, {
        name: 'documentEach', label: translate('One document per item of'),
        description: translate('Optional: a list field of the form; one document is issued for each of its items.'),
      }));
      entries.push(entry('spiff-prefill', PropertyField, isTextFieldEntryEdited, {
        name: 'prefill', label: translate('Opens with the case data of'),
        description: translate('Optional: fields of the form, separated by commas, or "all"; otherwise the form opens empty.'),
      }));
      entries.push(entry('spiff-instructions', BodyArea, isTextAreaEntryEdited, {
        type: 'spiffworkflow:InstructionsForEndUser', label: translate('Additional instructions'),
        description: translate('Shown when the task has no documentation.'),
      }));
    }
    groups.push({ id: 'spiff-form', label: translate('Form and deadline'), entries });
  }
  if (is(element, 'bpmn:Activity')) {
    groups.push({ id: 'spiff-scripts', label: translate('Scripts before / after'), entries: [
      entry('spiff-prescript', BodyArea, isTextAreaEntryEdited,
        { type: 'spiffworkflow:PreScript', label: translate('Before') }),
      entry('spiff-postscript', BodyArea, isTextAreaEntryEdited,
        { type: 'spiffworkflow:PostScript', label: translate('After') }),
    ] });
  }
  if (is(element, 'bpmn:ScriptTask')) {
    groups.push({ id: 'spiff-script', label: translate('Script'), entries: [ entry('spiff-script', ScriptText, isTextAreaEntryEdited) ] });
  }
  if (is(element, 'bpmn:SequenceFlow') && bo.sourceRef &&
      (is(bo.sourceRef, 'bpmn:ExclusiveGateway') || is(bo.sourceRef, 'bpmn:InclusiveGateway'))) {
    groups.push({ id: 'spiff-condition', label: translate('Condition'), entries: [
      entry('spiff-condition', ConditionText, isTextAreaEntryEdited) ] });
  }
  if (is(element, 'bpmn:Event') && timerOf(element)) {
    groups.push({ id: 'spiff-timer', label: translate('Timer'), entries: [
      entry('spiff-timer-kind', TimerKind, isSelectEntryEdited),
      entry('spiff-timer-expression', TimerExpression, isTextFieldEntryEdited),
    ] });
  }
  if (is(element, 'bpmn:CallActivity')) {
    groups.push({ id: 'spiff-called', label: translate('Called procedure'), entries: [
      entry('spiff-called', CalledProcess, isSelectEntryEdited, { processes: config.processes || [] }) ] });
  }
  if (is(element, 'bpmn:ServiceTask')) {
    groups.push({ id: 'spiff-service', label: translate('Service operation'),
      entries: serviceEntries(element, config.operators || []) });
  }
  if (is(element, 'bpmn:BusinessRuleTask')) {
    groups.push({ id: 'spiff-decision', label: translate('Decision (DMN)'), entries: [
      entry('spiff-decision', BodyArea, isTextAreaEntryEdited,
        { type: 'spiffworkflow:CalledDecisionId', label: translate('Decision ID'), rows: 1 }) ] });
  }
  const sendsMessage = is(element, 'bpmn:SendTask') || (is(element, 'bpmn:ThrowEvent') &&
    (bo.get('eventDefinitions') || []).some((d) => is(d, 'bpmn:MessageEventDefinition')));
  const receivesMessage = is(element, 'bpmn:ReceiveTask') || (is(element, 'bpmn:CatchEvent') &&
    (bo.get('eventDefinitions') || []).some((d) => is(d, 'bpmn:MessageEventDefinition')));
  if (sendsMessage || receivesMessage) {
    groups.push({ id: 'spiff-message', label: translate('Message data'), entries: [ sendsMessage
      ? entry('spiff-payload', BodyArea, isTextAreaEntryEdited,
        { type: 'spiffworkflow:MessagePayload', label: translate('Content (expression)') })
      : entry('spiff-variable', BodyArea, isTextAreaEntryEdited,
        { type: 'spiffworkflow:MessageVariable', label: translate('Variable that receives it'), rows: 1 }),
    // docs/messages.md: which case a message is for ("clave=ruta, ..."), read in the case's data by a catch and in
    // the message's content by a throw; "caso" and "expediente" always name the case itself.
    entry('spiff-correlation', PropertyField, isTextFieldEntryEdited, {
      name: 'correlacion', label: translate('Correlation keys'),
      description: sendsMessage
        ? translate('key=path in the content, e.g. caso=caso: the case that receives it')
        : translate('key=path in the case data, e.g. solicitud=solicitud_pnc.solicitud') }) ] });
  }
  return groups;
}

export default class SpiffPropertiesProvider {
  constructor(propertiesPanel, config, translate) {
    this._config = config || {};
    this._translate = translate;
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
  }

  getGroups(element) {
    return (groups) => {
      const ours = groupsFor(element, this._config, this._translate);
      // Keep the general group (name, id) first, then ours, then the rest of the BPMN groups.
      const general = groups.findIndex((g) => g.id === 'general');
      groups.splice(general + 1, 0, ...ours);
      // Our timer group edits the same timer as the BPMN provider's, with the expression SpiffWorkflow evaluates:
      // show one, not two.
      return ours.some((g) => g.id === 'spiff-timer') ? groups.filter((g) => g.id !== 'timer') : groups;
    };
  }
}

SpiffPropertiesProvider.$inject = [ 'propertiesPanel', 'config.spiffworkflow', 'translate' ];
