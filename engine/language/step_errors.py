"""Why a step failed, in Spanish: the scripts' Python errors as SpiffWorkflow reports them ('NameError:name 'x' is
not defined. Did you mean …') and the runner's loop limits, said with the value they name. What is not recognised
is kept as it came (shortened)."""
from __future__ import annotations

import re

from engine.language.naming import shorten
from engine.messages import msg

_PATTERNS = (
    (re.compile(r"ZeroDivisionError:\s*(?:float |integer )?(?:division|modulo) by zero"),
     lambda m: msg("división entre cero")),
    (re.compile(r"NameError:\s*name '([^']+)' is not defined\.?(?:\s*Did you mean one of '\[(.*?)\]'\?)?", re.S),
     lambda m: msg("«%(name)s» no está definido: ningún paso anterior le dio valor (¿un dato del formulario que "
                   "falta o un nombre mal escrito?)%(known)s", name=m.group(1),
                   known=msg("; datos que sí hay: %(names)s", names=shorten(m.group(2).replace("'", ""), 200))
                   if m.group(2) else "")),
    (re.compile(r"KeyError:\s*'?([^'\s.]+)'?"),
     lambda m: msg("falta la clave «%(key)s» en los datos", key=m.group(1))),
    (re.compile(r"IndexError:\s*(?:list|tuple|string) index out of range"),
     lambda m: msg("la posición pedida no existe en la lista")),
    (re.compile(r"TypeError:\s*(.+)", re.S),
     lambda m: msg("se mezclaron tipos de datos que no se pueden combinar (%(detail)s)",
                   detail=shorten(m.group(1).strip().rstrip("."), 160))),
    (re.compile(r"ValueError:\s*invalid literal for int\(\) with base 10: (.+)", re.S),
     lambda m: msg("%(value)s no es un número entero", value=shorten(m.group(1).strip().rstrip("."), 80))),
    (re.compile(r"AttributeError:\s*'(\w+)' object has no attribute '([^']+)'"),
     lambda m: msg("un valor de tipo %(type)s no tiene «%(attribute)s»", type=m.group(1), attribute=m.group(2))),
    (re.compile(r"more than (\d+) automatic steps without waiting for a person or an event: the cycle through "
                r"'([^']+)' never ends"),
     lambda m: msg("más de %(n)s pasos automáticos sin esperar a una persona ni a un evento: el ciclo que pasa por "
                   "«%(element)s» no termina", n=m.group(1), element=m.group(2))),
    (re.compile(r"the gateway '([^']+)' has run (\d+) times in a loop with parallel branches; the engine stops at "
                r"(\d+)"),
     lambda m: msg("la compuerta «%(element)s» se ejecutó %(n)s veces en un ciclo con ramas paralelas; el motor se "
                   "detiene a las %(limit)s", element=m.group(1), n=m.group(2), limit=m.group(3))),
)


def in_spanish(message: str) -> str:
    """The step's failure said in Spanish where it is one of the known errors; otherwise as it came, shortened."""
    text = " ".join(str(message or "").split())
    for pattern, say in _PATTERNS:
        found = pattern.search(text)
        if found:
            return str(say(found))
    return shorten(text, 400)
