// Keeps SpiffWorkflow extensions that our moddle descriptor (spiffworkflow.json) does not define.
//
// bpmn-moddle keeps elements and attributes of namespaces it does not know ($any / $attrs) and writes them
// back on save, but drops (with an import warning) an element of a namespace it DOES know whose type the
// descriptor lacks, e.g. <spiffworkflow:inventado>. So before import, hideUnknown moves every such element
// (with its whole subtree) and every such attribute into a placeholder namespace that moddle treats as
// foreign; after bpmn-js saveXML, restoreUnknown moves them back into the SpiffWorkflow namespace.
//
//   modeler.importXML(hideUnknown(xml, spiffworkflowDescriptor));
//   const { xml } = await modeler.saveXML({ format: true });
//   upload(restoreUnknown(xml));
//
// DOM APIs only (DOMParser, XMLSerializer): the browser's by default; node tests pass @xmldom/xmldom's.
// XML that does not parse is returned unchanged (bpmn-js then reports the real error).

export const SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core';
// Placeholders: one namespace for elements and another for attributes, because bpmn-moddle writes an
// attribute of a foreign element without its prefix when both share a namespace (<a:x a:y="1"> -> y="1").
export const KEPT_NS = 'urn:expediente:preserved:spiffworkflow';
export const KEPT_ATTR_NS = 'urn:expediente:preserved:spiffworkflow:attribute';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

const localOf = (name) => name.slice(name.indexOf(':') + 1);

// What the descriptor defines, by XML local name:
//   elements   - tags of its types (tagAlias "lowerCase": type PreScript <-> <preScript>)
//   childNames - element-valued property names (moddle also accepts <prefix:propertyName> inside its owner)
//   attributes - isAttr property names, including those the descriptor adds to bpmn types via `extends`
//   attributesByElement - tag -> isAttr names of that type (with the descriptor's own supertypes), because
//                moddle rewrites an undefined prefixed attribute of one of its own elements without prefix
//   takesForeign - tags of types with an `Element`-typed property: the only known elements inside which
//                moddle keeps a foreign element (elsewhere it drops it, hidden or not)
export function knownSpiffNames(descriptor) {
  const prefix = descriptor.prefix;
  const own = (name) => (name.startsWith(prefix + ':') ? localOf(name) : name.includes(':') ? null : name);
  const tag = (name) => (descriptor.xml && descriptor.xml.tagAlias === 'lowerCase'
    ? name.charAt(0).toLowerCase() + name.slice(1) : name);
  const types = new Map((descriptor.types || []).map((t) => [ t.name, t ]));
  const elements = new Set(), childNames = new Set(), attributes = new Set();
  const extraAttrs = new Map();  // own type name -> attribute names added by `extends`

  for (const type of types.values()) {
    const attrs = (type.properties || []).filter((p) => p.isAttr).map((p) => localOf(p.name));
    attrs.forEach((a) => attributes.add(a));
    if (type.extends) {
      for (const target of type.extends.map(own).filter(Boolean)) {
        extraAttrs.set(target, [ ...(extraAttrs.get(target) || []), ...attrs ]);
      }
      continue;  // a mixin, not an element of its own
    }
    elements.add(tag(type.name));
    for (const p of type.properties || []) {
      if (!p.isAttr && !p.isBody) childNames.add(localOf(p.name));
    }
  }

  const attrsOf = (name, seen = new Set()) => {
    const type = types.get(name);
    if (!type || seen.has(name)) return [];
    seen.add(name);
    return [
      ...(type.properties || []).filter((p) => p.isAttr).map((p) => localOf(p.name)),
      ...(extraAttrs.get(name) || []),
      ...(type.superClass || []).map(own).filter(Boolean).flatMap((s) => attrsOf(s, seen)),
    ];
  };
  const takesElement = (name, seen = new Set()) => {
    const type = types.get(name);
    if (!type || seen.has(name)) return false;
    seen.add(name);
    return (type.properties || []).some((p) => !p.isAttr && p.type === 'Element')
      || (type.superClass || []).map(own).filter(Boolean).some((s) => takesElement(s, seen));
  };
  const attributesByElement = new Map(), takesForeign = new Set();
  for (const type of types.values()) {
    if (type.extends) continue;
    attributesByElement.set(tag(type.name), new Set(attrsOf(type.name)));
    if (takesElement(type.name)) takesForeign.add(tag(type.name));
  }
  return { elements, childNames, attributes, attributesByElement, takesForeign };
}

// Parses xml, or returns null if it is not well-formed (browser: <parsererror>; xmldom: throws/reports).
function parse(xml, DOMParser) {
  let failed = false;
  try {
    const doc = new DOMParser({ onError: (level) => { if (level !== 'warning') failed = true; } })
      .parseFromString(xml, 'text/xml');
    if (failed || !doc || !doc.documentElement || doc.getElementsByTagName('parsererror').length) return null;
    return doc;
  } catch (e) {
    return null;
  }
}

function serialize(doc, XMLSerializer, original) {
  let out = new XMLSerializer().serializeToString(doc);
  // The XML declaration is not a node: some serializers drop it, Chromium glues the root element to it.
  const decl = /^\s*(<\?xml[^?]*\?>)/.exec(original);
  if (decl && !out.startsWith('<?xml')) out = decl[1] + '\n' + out;
  return out.replace(/^(<\?xml[^?]*\?>)(?=<)/, '$1\n');
}

const elementChildren = (el) => Array.from(el.childNodes).filter((n) => n.nodeType === 1);

// Every prefix declared anywhere in the document (to pick one that clashes with none).
function declaredPrefixes(doc) {
  const prefixes = new Set();
  const visit = (el) => {
    for (const a of Array.from(el.attributes)) {
      if (a.name.startsWith('xmlns:')) prefixes.add(a.name.slice(6));
    }
    elementChildren(el).forEach(visit);
  };
  visit(doc.documentElement);
  return prefixes;
}

function freePrefix(wanted, taken) {
  let prefix = wanted;
  for (let i = 1; taken.has(prefix); i++) prefix = wanted + i;
  return prefix;
}

// A copy of el named (ns, qname) with the same attributes (renameAttr may move one: returns [ns, qname]
// or null to keep it) and the same children (moved, not cloned); el is replaced by it in the tree.
function rename(el, ns, qname, renameAttr) {
  const copy = el.ownerDocument.createElementNS(ns, qname);
  for (const a of Array.from(el.attributes)) {
    const target = renameAttr(a);
    if (target) copy.setAttributeNS(target[0], target[1], a.value);
    else copy.setAttributeNS(a.namespaceURI, a.name, a.value);
  }
  while (el.firstChild) copy.appendChild(el.firstChild);
  el.parentNode.replaceChild(copy, el);
  return copy;
}

// Moves every attribute of el for which renameAttr gives a new [ns, qname].
function renameAttributes(el, renameAttr) {
  for (const a of Array.from(el.attributes)) {
    const target = renameAttr(a);
    if (!target) continue;
    el.removeAttributeNS(a.namespaceURI, a.localName);
    el.setAttributeNS(target[0], target[1], a.value);
  }
}

export function hideUnknown(xml, descriptor, { DOMParser, XMLSerializer } = globalThis) {
  const doc = parse(xml, DOMParser);
  if (!doc) return xml;
  const known = knownSpiffNames(descriptor);
  const taken = declaredPrefixes(doc);
  const prefix = freePrefix('spiffworkflow-kept', taken);
  taken.add(prefix);
  const attrPrefix = freePrefix('spiffworkflow-kept-attr', taken);
  let moved = false;

  // inside: within an element already hidden (its whole subtree is foreign);
  // owner: the tag of the parent if it is a SpiffWorkflow element moddle will parse, else null.
  const visit = (el, inside, owner) => {
    const isSpiff = el.namespaceURI === SPIFF_NS;
    const unknown = isSpiff && !known.elements.has(el.localName) && !(owner && known.childNames.has(el.localName));
    // Inside most known elements moddle drops foreign content too: leave it be, so that the import warning
    // names the element as the file does.
    if (!inside && unknown && owner && !known.takesForeign.has(owner)) return;
    const hide = isSpiff && (inside || unknown);
    const allowed = isSpiff && !hide ? known.attributesByElement.get(el.localName) : known.attributes;
    const renameAttr = (a) => {
      if (a.namespaceURI !== SPIFF_NS || (!hide && !inside && allowed && allowed.has(a.localName))) return null;
      moved = true;
      return [ KEPT_ATTR_NS, attrPrefix + ':' + a.localName ];
    };
    if (hide) {
      moved = true;
      el = rename(el, KEPT_NS, prefix + ':' + el.localName, renameAttr);
    } else {
      renameAttributes(el, renameAttr);
    }
    for (const child of elementChildren(el)) visit(child, inside || hide, isSpiff && !hide ? el.localName : null);
  };
  visit(doc.documentElement, false, null);

  if (!moved) return xml;
  doc.documentElement.setAttributeNS(XMLNS_NS, 'xmlns:' + prefix, KEPT_NS);
  doc.documentElement.setAttributeNS(XMLNS_NS, 'xmlns:' + attrPrefix, KEPT_ATTR_NS);
  return serialize(doc, XMLSerializer, xml);
}

export function restoreUnknown(xml, { DOMParser, XMLSerializer } = globalThis) {
  if (!xml.includes(KEPT_NS) && !xml.includes(KEPT_ATTR_NS)) return xml;
  const doc = parse(xml, DOMParser);
  if (!doc) return xml;
  const root = doc.documentElement;

  // The prefix the document binds to the SpiffWorkflow namespace, or a new xmlns:spiffworkflow on the root.
  const rootPrefixes = Array.from(root.attributes).filter((a) => a.name.startsWith('xmlns:'));
  const bound = rootPrefixes.find((a) => a.value === SPIFF_NS);
  let prefix;
  if (bound) {
    prefix = bound.name.slice(6);
  } else {
    prefix = freePrefix('spiffworkflow', declaredPrefixes(doc));
    root.setAttributeNS(XMLNS_NS, 'xmlns:' + prefix, SPIFF_NS);
  }

  const kept = (ns) => ns === KEPT_NS || ns === KEPT_ATTR_NS;
  const renameAttr = (a) => (kept(a.namespaceURI) ? [ SPIFF_NS, prefix + ':' + a.localName ] : null);
  const visit = (el) => {
    if (el.namespaceURI === KEPT_NS) el = rename(el, SPIFF_NS, prefix + ':' + el.localName, renameAttr);
    else renameAttributes(el, renameAttr);
    for (const a of Array.from(el.attributes)) {  // the placeholder's declarations go
      if (a.namespaceURI === XMLNS_NS && kept(a.value)) el.removeAttributeNS(XMLNS_NS, a.localName);
    }
    elementChildren(el).forEach(visit);
  };
  visit(root);
  return serialize(doc, XMLSerializer, xml);
}
