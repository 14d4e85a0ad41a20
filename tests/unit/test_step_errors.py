"""A failed step's reason in Spanish: the scripts' Python errors as SpiffWorkflow words them, and the loop limits."""
from __future__ import annotations

import pytest

from engine.language.step_errors import in_spanish


@pytest.mark.parametrize("english, spanish", [
    ("ZeroDivisionError:division by zero. ", "división entre cero"),
    ("NameError:name 'nada' is not defined.  Did you mean one of '['d', 'monto']'?",
     "«nada» no está definido: ningún paso anterior le dio valor (¿un dato del formulario que falta o un nombre mal "
     "escrito?); datos que sí hay: d, monto"),
    ("NameError:name 'nada' is not defined.", "«nada» no está definido: ningún paso anterior le dio valor (¿un dato "
                                              "del formulario que falta o un nombre mal escrito?)"),
    ("KeyError:falta. ", "falta la clave «falta» en los datos"),
    ("IndexError:list index out of range. ", "la posición pedida no existe en la lista"),
    ("ValueError:invalid literal for int() with base 10: 'abc'. ", "'abc' no es un número entero"),
    ("AttributeError:'NoneType' object has no attribute 'get'", "un valor de tipo NoneType no tiene «get»"),
    ("more than 1000 automatic steps without waiting for a person or an event: the cycle through 'contar' never "
     "ends", "más de 1000 pasos automáticos sin esperar a una persona ni a un evento: el ciclo que pasa por "
             "«contar» no termina"),
    ("Algo que nadie previó", "Algo que nadie previó"),
])
def test_known_errors_are_said_in_spanish(english, spanish):
    assert in_spanish(english) == spanish
