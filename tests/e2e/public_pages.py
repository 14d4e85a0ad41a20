"""The pages anyone may open without a session, in one list shared by the browser test
(tests/e2e/test_phone_and_accessibility.py: axe-core, 390 px, ≤ 50 KB) and bench/public_pages.py (bytes and
server time), and the case they are shown with."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.mail.notifications import outbox_rows
from engine.usecases import cases, online_filing, tasks
from engine.usecases.attachments import AttachmentStore
from tests.conftest import principal_for
from tests.documents_helpers import issued
from tests.integration.test_online_filing import laip
from tests.processes import licencia_walk as lic
from tests.processes.licencia_walk import intake
from tests.web.conftest import as_form

CLERK = "ventanilla1"  # a clerk of tests/web/conftest.py's office, in the licence's first lane
PUBLIC_PAGE_LIMIT_BYTES = 50 * 1024


@dataclass(frozen=True)
class PublicPage:
    """A page anyone may open: `path`, or the page (`answer` names it) that the form `form` (its id) on `path`
    shows once its fields `fill` (name -> value, as the form posts them) are typed in and it is sent. The path and
    the values may name the keys of `file_sample_case`'s answer: `{code}`, `{tracking}`, `{dpi_last4}`,
    `{previo}`, `{pending}`, `{confirmed}`, and `{n}` (a different number for each time a form is sent)."""
    path: str
    answer: str = ""
    form: str | None = None
    fill: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.path} {self.answer}".strip()


# The lead extends this list as public pages are added.
PUBLIC_PAGES = (
    PublicPage("/entrar"),
    PublicPage("/verificar"),
    PublicPage("/verificar/{code}"),
    PublicPage("/consulta"),
    PublicPage("/consulta", "estado", form="consulta-form", fill={"codigo": "{tracking}", "dato": "{dpi_last4}"}),
    PublicPage("/consulta", "previo", form="consulta-form", fill={"codigo": "{previo}", "dato": "{dpi_last4}"}),
    PublicPage("/tramites"),
    PublicPage("/tramites/solicitud_ciudadana"),
    PublicPage("/tramites/licencia"),
    PublicPage("/tramites/solicitud_ciudadana", "enviada", form="filing-form",
               fill=as_form(laip(correo="ciudadana{n}@example.gt"))),
    PublicPage("/tramites/confirmar/{pending}"),
    PublicPage("/tramites/confirmar/{confirmed}"),
)
CONFIRMATION_LINK = re.compile(r"/tramites/confirmar/(\S+)")


def file_sample_case(svc, store: AttachmentStore) -> dict:
    """A licence filed at the desk, its first task taken by CLERK: the case id, that task's id, the receipt's
    verification code, the tracking code and the last 4 digits of the applicant's DPI (what a citizen types to
    follow it); the tracking code of another licence, waiting on the citizen since its previo was issued; and two
    LAIP requests sent online, the confirmation link of one still pending, of the other confirmed."""
    data = intake(evento_nombre="Feria de Tecpán")
    started = cases.start_case(svc, principal_for(CLERK), "licencia", data)
    task_id = started.ready_tasks[0]["id"]
    tasks.claim_task(svc, principal_for(CLERK, role="clerk", groups=("ventanilla",)), task_id)
    [receipt] = issued(svc, started.id)
    at_previo = lic.issue_previo(lic.review(lic.receive(lic.Walk(svc, "licencia", data, actor=CLERK)), complete=False),
                                 svc.clock())
    pending, confirmed = (_sent_online(svc, store, f"{who}@example.gt") for who in ("pendiente", "confirmada"))
    online_filing.confirm_filing(svc, confirmed)
    return {"case": started.id, "task": task_id, "code": receipt["verification_code"],
            "tracking": started.tracking_code, "dpi_last4": data["solicitante_dpi"][-4:],
            "previo": at_previo.case.tracking_code,
            "pending": pending, "confirmed": confirmed, "n": 0}


def _sent_online(svc, store: AttachmentStore, email: str) -> str:
    """A LAIP request sent online from e-mail `email`: the token of the confirmation link mailed to it."""
    online_filing.submit_filing(svc, store, "solicitud_ciudadana", laip(correo=email), [], client="192.0.2.1")
    body = [m["body"] for m in outbox_rows(svc) if m["to_address"] == email][-1]
    return CONFIRMATION_LINK.search(body).group(1)
