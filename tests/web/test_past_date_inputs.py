"""A date of something that already happened: its input stops at today (max=) and the server refuses a later day
with a Spanish message naming the field."""
from __future__ import annotations

import re

from tests.web.conftest import csrf_of, login

INTAKE = "/expedientes/nuevo/correspondencia_oficial"  # "Fecha y hora de recepción" of the oficio received


def test_a_received_moment_stops_at_today_on_the_page_and_on_the_server(app):
    client = app.test_client()
    login(client, "ventanilla1")
    page = client.get(INTAKE).get_data(as_text=True)
    received = re.search(r'<input type="datetime-local" id="f-oficio_recibido"[^>]*>', page, re.S)
    assert received and 'max="2026-03-30T23:59"' in received.group(0)  # the fake clock's Monday 30 March 2026
    response = client.post(INTAKE, data={"csrf_token": csrf_of(page), "oficio_recibido": "2026-03-31T08:00"})
    assert response.status_code == 422
    assert ("«Fecha y hora de recepción» no puede ser una fecha futura: anote el día en que ocurrió (hoy o antes)."
            in response.get_data(as_text=True))
    today = client.post(INTAKE, data={"csrf_token": csrf_of(page), "oficio_recibido": "2026-03-30T08:00"})
    assert "no puede ser una fecha futura" not in today.get_data(as_text=True)
