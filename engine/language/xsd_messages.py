"""lxml's XML Schema errors said in Spanish: which element or attribute is wrong or missing, with its value.

lxml writes 'Element '{http://www.omg.org/spec/DD/20100524/DC}Bounds', attribute 'x': '' is not a valid value of
the atomic type 'xs:double'.'; engine.language.spec_problems finds the element on the error's line and passes it
here, so the message names it ("La tarea «Revisar» (Task_1): el atributo …"). A text no pattern knows keeps lxml's
words, without namespace URIs.
"""
from __future__ import annotations

import re

from lxml import etree

from engine.language.naming import describe, shorten, strip_namespaces
from engine.messages import msg

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

_E = r"^Element '(?P<tag>[^']+)'"
_A = r", attribute '(?P<attr>[^']+)'"
_EXPECTED = r"(?: Expected is (?:one of )?\( ?(?P<allowed>.*?) ?\)\.?)?$"

# What each XML Schema type expects, for "se espera …".
_TYPES = {
    "xs:double": msg("un número (por ejemplo 120 o 45.5)"), "xs:float": msg("un número (por ejemplo 120 o 45.5)"),
    "xs:decimal": msg("un número (por ejemplo 120 o 45.5)"), "xs:integer": msg("un número entero"),
    "xs:int": msg("un número entero"), "xs:boolean": msg('"true" o "false"'),
    "xs:QName": msg("un nombre con un prefijo declarado (prefijo:nombre)"),
    "xs:IDREF": msg("el id de un elemento de este archivo"), "xs:anyURI": msg("una dirección URI"),
    "xs:dateTime": msg("una fecha y hora ISO 8601"), "xs:NCName": msg("un nombre sin espacios ni dos puntos"),
}


# XML Schema wildcards in lxml's "Expected is (...)" lists.
_OPTION_WORDS = {"##other": msg("un elemento de extensión (de otro espacio de nombres)"),
                 "##any": msg("cualquier elemento")}


def _allowed(text: str | None) -> str | None:
    if not text:
        return None
    options = [next((w for k, w in _OPTION_WORDS.items() if o.strip().startswith(k)), o.strip())
               for o in text.split(",") if o.strip()]
    count = 1
    while count < len(options) and len(", ".join(options[:count + 1])) <= 100:
        count += 1
    shown = ", ".join(options[:count])
    if len(options) > count:
        shown = msg("%(options)s y %(count)s más", options=shown, count=len(options) - count)
    return shown


def subject(element):
    """(the nearest element with an id, at or above `element`, not the document; the BPMN element a diagram shape or
    edge there draws, or None)."""
    owner = element
    while owner is not None and not owner.get("id"):
        owner = owner.getparent()
    if owner is None or owner.getparent() is None:
        return None, None
    drawn = None
    ref = owner.get("bpmnElement")
    if ref:
        found = owner.getroottree().getroot().xpath("//*[@id=$id]", id=ref)
        drawn = found[0] if found else None
    return owner, drawn


def xsd_message(raw: str, element=None, nsmap: dict | None = None) -> str:
    """The Spanish message for one lxml schema error; `element` is the lxml element it is about, if found."""
    text = " ".join(strip_namespaces(raw, nsmap).split())
    m = re.match(_E, text)
    tag = m.group("tag") if m else None
    owner, drawn = subject(element)
    if drawn is not None:
        who = msg("El elemento %(tag)s del dibujo %(owner)s", tag=tag or "?", owner=describe(drawn, "of"))
    elif element is not None and element.get("id") and etree.QName(element).namespace == BPMN_NS:
        who = describe(element, "The")
    elif element is not None and element.get("id"):
        who = msg("El elemento %(tag)s «%(id)s»", tag=tag or "?", id=element.get("id"))
    elif tag and owner is not None:
        who = msg("El elemento %(tag)s %(owner)s", tag=tag, owner=describe(owner, "of"))
    elif tag:
        who = msg("El elemento %(tag)s", tag=tag)
    else:
        who = msg("El documento")
    m = re.match(_E + _A + r": '(?P<value>.*)' is not a valid value of the atomic type '(?P<type>[^']+)'\.$", text)
    if m and m.group("attr") == "isExecutable":
        return msg('El atributo isExecutable de bpmn:process debe ser "true" o "false", no "%(value)s".',
                   value=m.group("value"))
    if m and m.group("type") == "xs:ID":
        return msg("%(element)s: su %(attribute)s «%(value)s» ya lo usa otro elemento de este archivo o no es un id "
                   "XML válido (letras, dígitos, '-', '_' y '.', sin empezar con un dígito). Los id deben ser únicos.",
                   element=who, attribute=m.group("attr"), value=shorten(m.group("value")))
    if m:
        if not m.group("value"):
            return msg("%(element)s: el atributo %(attribute)s está vacío, pero debe ser %(expected)s.",
                       element=who, attribute=m.group("attr"),
                       expected=_TYPES.get(m.group("type"), m.group("type")))
        return msg("%(element)s: el atributo %(attribute)s vale «%(value)s», pero debe ser %(expected)s.",
                   element=who, attribute=m.group("attr"), value=shorten(m.group("value")),
                   expected=_TYPES.get(m.group("type"), m.group("type")))
    m = re.match(_E + r": '(?P<value>.*)' is not a valid value of the atomic type '(?P<type>[^']+)'\.$", text)
    if m:
        return msg("%(element)s: su contenido «%(value)s» no es válido; debe ser %(expected)s.", element=who,
                   value=shorten(m.group("value")), expected=_TYPES.get(m.group("type"), m.group("type")))
    m = re.match(_E + _A + r": The attribute '[^']+' is not allowed\.$", text)
    if m:
        return msg("%(element)s: el atributo %(attribute)s no existe en BPMN para este elemento; quítelo.",
                   element=who, attribute=m.group("attr"))
    m = re.match(_E + r": The attribute '(?P<attr>[^']+)' is required but missing\.$", text)
    if m:
        return msg("%(element)s: falta el atributo obligatorio %(attribute)s.", element=who,
                   attribute=m.group("attr"))
    m = re.match(_E + _A + r": \[facet 'enumeration'\] The value '(?P<value>.*)' is not an element of the set "
                 r"\{(?P<set>.*)\}\.$", text)
    if m:
        return msg("%(element)s: el atributo %(attribute)s vale «%(value)s»; los valores admitidos son: "
                   "%(allowed)s.", element=who, attribute=m.group("attr"), value=shorten(m.group("value")),
                   allowed=", ".join(v.strip().strip("'") for v in m.group("set").split(",")))
    m = re.match(_E + _A + r": The QName value '(?P<value>.*)' has no corresponding namespace declaration in "
                 r"scope\.$", text)
    if m:
        prefix = m.group("value").partition(":")[0] if ":" in m.group("value") else ""
        return msg("%(element)s: el atributo %(attribute)s vale «%(value)s», pero el prefijo «%(prefix)s» no está "
                   "declarado en el archivo (falta xmlns:%(prefix)s en bpmn:definitions).", element=who,
                   attribute=m.group("attr"), value=shorten(m.group("value")), prefix=prefix)
    m = re.match(_E + r": (?:This element is not expected\.|The content is not valid\.)" + _EXPECTED, text)
    if m:
        allowed = _allowed(m.group("allowed"))
        if allowed:
            return msg("%(element)s no se permite en este lugar del archivo (revise dentro de qué elemento está y "
                       "en qué orden); aquí se espera: %(allowed)s.", element=who, allowed=allowed)
        return msg("%(element)s no se permite en este lugar del archivo: revise dentro de qué elemento está y en "
                   "qué orden.", element=who)
    m = re.match(_E + r": Missing child element\(s\)\." + _EXPECTED, text)
    if m:
        return msg("%(element)s: le falta un elemento hijo; se espera: %(allowed)s.", element=who,
                   allowed=_allowed(m.group("allowed")) or "?")
    if re.match(_E + r": Character content other than whitespace is not allowed", text):
        return msg("%(element)s contiene texto, pero solo puede contener otros elementos; quite el texto.",
                   element=who)
    m = re.match(_E + r": No match found for key-sequence \['(?P<value>.*)'\] of keyref", text)
    if m:
        return msg("%(element)s hace referencia a «%(value)s», que no es el id de ningún elemento del archivo.",
                   element=who, value=shorten(m.group("value")))
    m = re.match(_E + r": Duplicate key-sequence \['(?P<value>.*)'\]", text)
    if m:
        return msg("%(element)s: el id «%(value)s» se repite; los id deben ser únicos.", element=who,
                   value=shorten(m.group("value")))
    m = re.match(_E + r"(?:" + _A + r")?: \[facet '(?P<facet>\w+)'\] The value '(?P<value>.*?)'", text)
    if m:
        return msg("%(element)s: el valor «%(value)s» no tiene la forma que exige BPMN.", element=who,
                   value=shorten(m.group("value")))
    if re.match(_E + r": No matching global (?:element )?declaration available", text):
        return msg("%(element)s no pertenece a BPMN ni a una extensión que el motor conozca; quítelo.",
                   element=who)
    return msg("El documento no cumple el esquema XML de BPMN/DMN: %(detail)s", detail=shorten(text, 240))


# libxml2's well-formedness errors (lxml's XMLSyntaxError.msg, without its ", line N, column M" tail).
_SYNTAX = (
    (r"Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)",
     lambda m: msg("la etiqueta de cierre de «%(closing)s» no corresponde al elemento «%(opening)s», abierto en la "
                   "línea %(line)s", closing=m.group(3), opening=m.group(1), line=m.group(2))),
    (r"Premature end of data in tag (\S+) line (\d+)",
     lambda m: msg("el archivo termina antes de cerrar el elemento «%(tag)s», abierto en la línea %(line)s: ¿está "
                   "incompleto?",
                   tag=m.group(1), line=m.group(2))),
    (r"Extra content at the end of the document",
     lambda m: msg("hay contenido después del elemento raíz: un archivo tiene un solo elemento raíz")),
    (r"Attribute (\S+) redefined", lambda m: msg("el atributo %(attribute)s aparece dos veces en el mismo elemento",
                                                 attribute=m.group(1))),
    (r"xmlParseEntityRef: no name|EntityRef: expecting ';'",
     lambda m: msg("hay un carácter & suelto: escríbalo &amp;")),
    (r"Entity '(\S+)' not defined",
     lambda m: msg("la entidad &%(entity)s; no existe en XML (sin DTD): escriba el carácter mismo", entity=m.group(1))),
    (r"Namespace prefix (\S+) on (\S+) is not defined",
     lambda m: msg("el prefijo «%(prefix)s» del elemento «%(prefix)s:%(tag)s» no está declarado (falta "
                   "xmlns:%(prefix)s)",
                   prefix=m.group(1), tag=m.group(2))),
    (r"AttValue: (?:\" or ' |[\"'] )?expected", lambda m: msg("un valor de atributo no está entre comillas o le falta "
                                                               "la comilla de cierre")),
    (r"attributes construct error", lambda m: msg("un atributo está mal escrito: escriba nombre=\"valor\", separados "
                                                  "por espacios")),
    (r"Specification mandates value for attribute (\S+)",
     lambda m: msg("el atributo %(attribute)s no tiene valor: escriba %(attribute)s=\"valor\"",
                   attribute=m.group(1))),
    (r"(\S+): Empty XML namespace is not allowed",
     lambda m: msg("la declaración %(declaration)s está vacía: dele el URI de su espacio de nombres o quítela",
                   declaration=m.group(1))),
    (r"(\S+): '(.*)' is not a valid URI",
     lambda m: msg("la declaración %(declaration)s no tiene un URI válido («%(uri)s»)", declaration=m.group(1),
                   uri=m.group(2))),
    (r"expected '>'", lambda m: msg("una etiqueta no se cierra (falta «>»)")),
    (r"EndTag: '</' not found", lambda m: msg("falta la etiqueta de cierre de un elemento")),
    (r"StartTag: invalid element name",
     lambda m: msg("hay un carácter «<» que no empieza una etiqueta válida: si es texto, escríbalo &lt;")),
    (r"Document is empty|Start tag expected, '<' not found",
     lambda m: msg("no contiene ningún elemento XML")),
    (r"XML declaration allowed only at the start of the document",
     lambda m: msg("la declaración XML (la que empieza con «?xml») solo puede ir al principio del archivo: ¿hay dos "
                   "archivos pegados?")),
    (r"(?:Invalid character: )?Char 0x(\w+) out of allowed range",
     lambda m: msg("hay un carácter de control (código %(code)s) que XML no admite", code=int(m.group(1), 16))),
    (r"Unescaped '<' not allowed in attributes values",
     lambda m: msg("un valor de atributo contiene el carácter «<»: escríbalo &lt;")),
    (r"Invalid bytes in character encoding|Input is not proper UTF-8",
     lambda m: msg("el archivo no está en la codificación que declara (se esperaba UTF-8): guárdelo como UTF-8")),
    (r"Couldn't find end of Start Tag (\S+)",
     lambda m: msg("la etiqueta del elemento «%(tag)s» no se cierra (falta «>»)", tag=m.group(1))),
    (r"Comment not terminated", lambda m: msg("un comentario no se cierra (falta «-->»)")),
    (r"(?:PCDATA )?invalid Char value (\d+)",
     lambda m: msg("hay un carácter de control (código %(code)s) que XML no admite", code=m.group(1))),
)


def syntax_message(text: str) -> str:
    """libxml2's English for XML that is not well formed, in Spanish where known; otherwise its words, shortened."""
    text = re.sub(r", line \d+, column \d+$", "", " ".join(str(text).split()))
    for pattern, say in _SYNTAX:
        m = re.match(pattern, text)
        if m:
            return say(m)
    return shorten(text)
