// Service tasks' parameters are Python expressions SpiffWorkflow evaluates in the task's data (as in spiff-arena:
// 'pnc' is the text pnc). The panel edits a "text" parameter (engine/language/operators.py) as plain text and
// writes it as a Python string literal; a text starting with "=" is written as the expression after it.
// No imports: web/modeler/test/roundtrip.mjs loads this file as it is.

export const PARAMETER_TYPE = 'any';

const ESCAPES = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"' };

// 'text' -> a Python string literal that evaluates to the text.
export function pythonText(text) {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')}'`;
}

// A plain Python string literal -> its text; anything else (a name, an f-string, other escapes) -> null.
export function literalText(expression) {
  const m = /^\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)")\s*$/.exec(expression || '');
  if (!m) return null;
  let plain = true;
  const text = (m[1] !== undefined ? m[1] : m[2]).replace(/\\(.)/g, (all, c) => {
    if (Object.hasOwn(ESCAPES, c)) return ESCAPES[c];
    plain = false;
    return all;
  });
  return plain ? text : null;
}

// What the panel shows for a text parameter's expression, and the expression it writes for what was typed.
export function shownText(expression) {
  if (!expression) return '';
  const text = literalText(expression);
  return text === null ? `=${expression}` : text;
}

export function typedText(value) {
  if (!value || !value.trim()) return '';
  return value.startsWith('=') ? value.slice(1).trim() : pythonText(value);
}
