"""The favourable licence path through the clerk's pages in Chromium, shared by the browser walks: what each clerk
types at each step, the generated form filled field by field, the case filed at the desk and its tasks worked
from the queue through the task pages until the licence certificate is issued."""
from __future__ import annotations

import re
from typing import Callable

from tests.e2e.chromium import new_page
from tests.processes.driver import Walk
from tests.processes.licencia_walk import RESOLUTION_DRAFT, intake, iso, local, opinion
from tests.task_rows import task_rows
from tests.web.conftest import as_form

# Who works each step of the favourable licence path, and what they type (valid per its form).
STEPS = {
    "emitir_constancia": ("ventanilla1", {"constancia_entrega": "ventanilla", "constancia_folios": 12}),
    "revisar_completitud": ("ventanilla1", {"completo": True}),
    # The opinions are asked by the diagram's service tasks and answered on their reply links (walk_to_certificate
    # answers them when the case waits for them; the reply page has its own browser walk).
    "elaborar_dictamen": ("juridico1", {
        "dictamen_sentido": "favorable",
        "dictamen_antecedentes": "Solicitud presentada con el plan de seguridad y la licencia de sonido.",
        "dictamen_analisis": "Cumple los requisitos del Decreto 574; la PNC opina favorablemente.",
        "dictamen_fundamento": "Decreto 574, art. 1; Decreto 114-97, art. 47.",
        "dictamen_conclusion": "Procede otorgar la licencia con las condiciones indicadas.",
        "licencia_condiciones": "Finalizar a las 23:00.", **RESOLUTION_DRAFT}),
    # The resolution's fields come pre-filled from the dictamen's draft; the Governor decides and names the co-signer.
    "firmar_resolucion": ("gobernador", {"resolucion_decision": "favorable", "cofirmante": "Ana Lucía Cutzal"}),
    "notificar_interesado": ("notificador1", {"notificacion_forma": "personal",
                                              "notificacion_lugar": "Oficina de la Gobernación",
                                              "notificacion_fecha_hora": iso(local(2026, 3, 30, 14)),
                                              "notificacion_recibido_por": "Ana Lucía Xicará"}),
    "emitir_certificado": ("tramite1", {"certificado_vigencia_desde": "2027-12-20",
                                        "certificado_vigencia_hasta": "2027-12-21"}),
}
LAST_STEP = "emitir_certificado"  # then the case waits for the appeal period to pass

# A hook called with the clerk's page, the task row and the element ids walked so far.
Hook = Callable[[object, dict, list], None]


def fill(page, data: dict) -> None:
    """Type a JSON object into the generated form, field by field, as a clerk would."""
    for name, value in as_form(data).items():
        if name.endswith(".present"):
            continue
        field = page.locator(f'[name="{name}"]')
        tag = field.evaluate("el => el.tagName + ':' + (el.type || '')")
        if tag.startswith("SELECT"):
            field.select_option(value.split("\n") if tag == "SELECT:select-multiple" else value)
        elif tag == "INPUT:checkbox":
            field.set_checked(value == "on")
        else:
            field.fill(value)


def file_licence(desk, **changes) -> tuple[int, str]:
    """From a desk clerk's page, file a licence application (intake(**changes)) through «Nuevo expediente»; the
    page is left on the filing receipt. Returns the case's id and number."""
    desk.click("text=Nuevo expediente")
    desk.click("text=Licencia o autorización")
    fill(desk, intake(**changes))
    desk.click("#file-case")
    desk.wait_for_selector("#receipt")
    case_id = int(re.search(r"/expedientes/(\d+)/constancia", desk.url).group(1))
    return case_id, desk.inner_text("#receipt-number")


def walk_to_certificate(browser, base: str, svc, case_id: int, number: str, pages: dict,
                        at_inbox: Hook | None = None, at_form: Hook | None = None) -> list[str]:
    """Work the case's ready tasks, first one first, each as its STEPS clerk would: find it in the queue, open
    its task page, fill the form and press the complete button, until LAST_STEP is done. `pages` maps a
    username to a logged-in page (opened here when missing). `at_inbox` runs on the queue before the task is
    opened, `at_form` on the filled form before it is completed. Returns the element ids walked, in order."""
    walked: list[str] = []
    while not walked or walked[-1] != LAST_STEP:
        open_tasks = task_rows(svc, case_id)
        if not open_tasks:  # waiting for the institutions' opinions: they answer on their links
            waiting_on = Walk.of(svc, case_id)
            for who in ("pnc", "coordinador"):
                if waiting_on.data.get(f"requiere_opinion_{who}"):
                    opinion(waiting_on, who)
            open_tasks = task_rows(svc, case_id)
        assert open_tasks, f"the case has no ready task after {walked}"
        task = open_tasks[0]
        username, data = STEPS[task["element_id"]]
        page = pages.get(username) or pages.setdefault(username, new_page(browser, base, username))
        page.goto(f"{base}/bandeja?vista=queue&q={number}")
        if at_inbox:
            at_inbox(page, task, walked)
        page.click(f'tr[data-task="{task["id"]}"] td:nth-child(3) a')
        page.wait_for_selector("#task-form")
        fill(page, data)
        if at_form:
            at_form(page, task, walked)
        page.click("#complete")
        page.wait_for_url(re.compile(rf"/expedientes/{case_id}$"))
        assert "Tarea «" in page.inner_text(".flash"), (task["element_id"], page.inner_text("main"))
        walked.append(task["element_id"])
    return walked
