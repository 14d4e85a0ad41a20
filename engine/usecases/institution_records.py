"""The institutions the office writes to (PNC, CONRED, RIC, the property registry, ...): records with an e-mail
address, not accounts. Admins keep them (`institution.manage`); everyone reads them, and a case's requests to them
(engine/usecases/institutions.py sends the requests and takes the answers). `seed_institutions` creates the
office's usual correspondents with placeholder addresses (`expediente demo-users`)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.accounts.permissions import Principal, check_case_visible, use_case
from engine.errors import Conflict, InvalidInput, NotFound
from engine.messages import msg
from engine.storage import models

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_i, _r = models.institutions, models.institution_requests
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMITS = {"name": 200, "email": 254, "contact": 200, "phone": 40}
EDITABLE = ("name", "email", "contact", "phone", "active")


class InstitutionNotFound(NotFound):
    code = "institution_not_found"


# -- the institutions' records -------------------------------------------------------------------------------------

def _invalid(field: str, message) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field, "message": message}])


def _clean(values: dict, *, partial: bool) -> dict:
    """The editable fields of an institution, trimmed and checked (InvalidInput naming each bad field)."""
    out, problems = {}, []
    for field, limit in LIMITS.items():
        if field not in values:
            if not partial and field in ("name", "email"):
                problems.append({"field": field, "message": msg("Este dato es obligatorio.")})
            continue
        value = values[field]
        text = value.strip() if isinstance(value, str) else None
        if text is None or len(text) > limit or (field in ("name", "email") and not text):
            problems.append({"field": field, "message": msg("Escriba de 1 a %(n)s caracteres.", n=limit)})
        elif field == "email" and not EMAIL_PATTERN.match(text):
            problems.append({"field": field, "message": msg("Escriba una dirección de correo electrónico válida.")})
        else:
            out[field] = text
    if "active" in values:
        if not isinstance(values["active"], bool):
            problems.append({"field": "active", "message": msg("Indique sí o no.")})
        else:
            out["active"] = values["active"]
    if problems:
        raise InvalidInput(problems[0]["message"], errors=problems)
    return out


def _row(conn, key: str) -> dict:
    row = conn.execute(select(_i).where(_i.c.key == key)).mappings().first()
    if row is None:
        raise InstitutionNotFound(msg("No existe la institución «%(key)s».", key=key), key=key)
    return dict(row)


@use_case("institution.read")
def list_institutions(svc: Services, principal: Principal, active: bool | None = None) -> list[dict]:
    """The institutions, by name (only the active ones, or only the inactive ones, when `active` says)."""
    query = select(_i).order_by(_i.c.name, _i.c.id)
    if active is not None:
        query = query.where(_i.c.active.is_(active))
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(query).mappings()]


@use_case("institution.read")
def get_institution(svc: Services, principal: Principal, key: str) -> dict:
    """One institution by its key."""
    with svc.uow(write=False) as uow:
        return _row(uow.conn, key)


@use_case("institution.manage")
def create_institution(svc: Services, principal: Principal, key: str, name: str, email: str, contact: str = "",
                       phone: str = "", active: bool = True) -> dict:
    """Add an institution the diagrams can name by `key` (lower case letters, digits and _)."""
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise _invalid("key", msg("La clave lleva de 2 a 40 letras minúsculas, cifras o _, y empieza por una letra."))
    row = {"key": key, **_clean({"name": name, "email": email, "contact": contact, "phone": phone, "active": active},
                                partial=False)}
    now = svc.clock()
    row.update(created_at=now, updated_at=now)
    try:
        with svc.uow() as uow:
            row["id"] = uow.conn.execute(insert(_i).values(**row)).inserted_primary_key[0]
            uow.commit()
    except IntegrityError:  # the unique key, decided by the database: two admins cannot both add it
        raise Conflict(msg("Ya existe una institución con la clave «%(key)s».", key=key), key=key) from None
    return row


@use_case("institution.manage")
def update_institution(svc: Services, principal: Principal, key: str, changes: dict) -> dict:
    """Change an institution's name, e-mail, contact, phone or whether it is active (its key never changes:
    diagrams name it). Reminders of open requests go to the address the record has when they are sent; an
    inactive institution receives no new requests."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise _invalid(unknown[0], msg("Este dato no se puede cambiar."))
    cleaned = _clean(changes, partial=True)
    with svc.uow() as uow:
        _row(uow.conn, key)
        if cleaned:
            uow.conn.execute(update(_i).where(_i.c.key == key).values(**cleaned, updated_at=svc.clock()))
        row = _row(uow.conn, key)
        uow.commit()
    return row


@use_case("case.read")
def requests_of_case(svc: Services, principal: Principal, case_id: int) -> list[dict]:
    """What a case asked institutions and how each stands (never the link), oldest first."""
    with svc.uow(write=False) as uow:
        check_case_visible(uow.conn, principal, case_id)
        rows = uow.conn.execute(_OF_CASE, {"b_case": case_id}).mappings().all()
    return [{**dict(r), "answer": orjson.loads(r["answer"]) if r["answer"] else None} for r in rows]


_OF_CASE = (select(_r.c.public_id, _r.c.message_name, _r.c.subject, _r.c.state, _r.c.created_at, _r.c.due_at,
                   _r.c.expires_at, _r.c.reminders_sent, _r.c.escalated_at, _r.c.answered_at,
                   _r.c.answer_json.label("answer"), _r.c.document_id, _r.c.element_id,
                   _i.c.key.label("institution_key"), _i.c.name.label("institution_name"))
            .join(_i, _i.c.id == _r.c.institution_id).where(_r.c.case_id == bindparam("b_case")).order_by(_r.c.id))


# The office's usual correspondents, created by `expediente demo-users` with placeholder addresses (example.org
# is reserved: nothing mailed there reaches anyone). The office replaces the addresses with the real ones.
DEMO_INSTITUTIONS = (
    ("pnc", "Policía Nacional Civil (PNC), comisaría de Chimaltenango", "pnc.chimaltenango@example.org",
     "Jefe(a) de la comisaría"),
    ("conred", "CONRED, coordinación departamental de gestión de riesgo", "conred.chimaltenango@example.org",
     "Coordinador(a) departamental de gestión de riesgo"),
    ("ric", "Registro de Información Catastral (RIC), oficina de Chimaltenango", "ric.chimaltenango@example.org",
     "Coordinador(a) de la oficina"),
    ("registro_propiedad", "Registro General de la Propiedad", "registro.propiedad@example.org",
     "Registrador(a) General"),
    ("otra", "Otra institución pública", "otra.institucion@example.org", "Titular de la institución"),
)


def seed_institutions(svc: Services) -> list[str]:
    """Create the DEMO_INSTITUTIONS that do not exist yet (an existing key is left as the office edited it);
    returns the keys created."""
    created = []
    with svc.uow() as uow:
        have = set(uow.conn.execute(select(_i.c.key)).scalars())
        now = svc.clock()
        for key, name, email, contact in DEMO_INSTITUTIONS:
            if key not in have:
                uow.conn.execute(insert(_i).values(key=key, name=name, email=email, contact=contact, phone="",
                                                   active=True, created_at=now, updated_at=now))
                created.append(key)
        uow.commit()
    return created
