"""Steps of procedure A (licencia) as the clerks take them, shared by its walks and the shared-part tests."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from tests.processes.driver import Walk, local  # noqa: F401 (local is re-exported to the licence tests)
from tests.unit.test_validators import make_cui

GT = ZoneInfo("America/Guatemala")
DPI_ANA = make_cui("24567890", 4, 1)        # Chimaltenango, Chimaltenango
DPI_LUIS = make_cui("12345678", 4, 8)       # Chimaltenango, San Miguel Pochuta


def closing(day: date) -> datetime:
    """16:30 office time on `day` (a working-day deadline's due moment), in UTC."""
    return datetime.combine(day, time(16, 30), tzinfo=GT).astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat()


# The opinions are asked by the diagram's service tasks (solicitar_institucion: an oficio and a reply link to
# each institution, kept as records by key) and come back through those links: WHO names the branch, its
# institution and the answer's data field.
WHO = {"pnc": ("solicitud_pnc", "opinion_pnc"), "coordinador": ("solicitud_coordinador", "opinion_conred")}
# What the legal adviser drafts for the resolution; the Governor's form has the same fields.
RESOLUTION_DRAFT = {
    "resolucion_considerandos": ["Que la solicitud cumple los requisitos legales del tipo de licencia.",
                                 "Que la Policía Nacional Civil opinó favorablemente."],
    "resolucion_fundamento": "Decreto 574, art. 1; Decreto 114-97, art. 47.",
    "resolucion_puntos": ["Se autoriza el evento en las condiciones indicadas."],
}


def intake(kind: str = "espectaculo_publico", **changes) -> dict:
    """A valid licence request of `kind`, with the fields that kind requires."""
    data = {
        "tipo_licencia": kind, "solicitante_tipo": "persona_individual", "solicitante_nombre": "Ana Lucía Xicará",
        "solicitante_dpi": DPI_ANA, "solicitante_nit": "576937-K", "evento_nombre": "Festival de la Feria",
        "evento_fecha": "2027-12-20", "evento_hora_inicio": "19:00", "evento_hora_fin": "23:00",
        "evento_lugar": "Parque central", "municipio": "Chimaltenango", "contacto_telefono": "5512 3456",
        "contacto_correo": "ana.xicara@example.com", "anexos": ["Solicitud firmada"],
    }
    data |= {
        "espectaculo_publico": {"evento_aforo": 800, "boleto_precio": 25},
        "actividad_via_publica": {"evento_nombre": "Carrera 10K", "recorrido": "Salida del parque central, "
                                  "Calzada Rafael Landívar, regreso por la 1a. avenida"},
        "rifa_sorteo": {"evento_nombre": "Rifa pro bomberos", "fianza_numero": "FZ-2026-118",
                        "premios": [{"descripcion": "Motocicleta", "valor": 15000}], "premios_valor_total": 15000},
        "colecta_publica": {"evento_nombre": "Colecta pro escuela", "solicitante_tipo": "organizacion",
                            "solicitante_nombre": "Comité Pro Escuela Aldea Bola de Oro",
                            "representante_legal": {"nombre": "Luis Cúmez", "cargo": "Presidente"},
                            "solicitante_dpi": DPI_LUIS, "presupuesto": 20000,
                            "comite_miembros": [{"nombre": "Luis Cúmez", "dpi": DPI_LUIS, "cargo": "Presidente"}]},
    }[kind]
    return data | changes


def start(svc, kind: str = "espectaculo_publico", at: datetime | None = None, **changes) -> Walk:
    if at is not None:
        svc.clock.now = at
    walk = Walk(svc, "licencia", intake(kind, **changes), actor="ventanilla1")
    assert walk.ready() == ["emitir_constancia"]
    return walk


def receive(walk: Walk) -> Walk:
    walk.complete("emitir_constancia", {"constancia_entrega": "ventanilla", "constancia_folios": 12})
    assert walk.ready() == ["revisar_completitud"]
    return walk


def review(walk: Walk, complete: bool = True) -> Walk:
    data = {"completo": True} if complete else {"completo": False, "faltantes": ["Licencia municipal de sonido"]}
    return walk.complete("revisar_completitud", data)


def issue_previo(walk: Walk, notified: datetime) -> Walk:
    walk.complete("emitir_previo", {"previo_requerimientos": [{"requisito": "Licencia municipal de sonido",
                                                               "fundamento": "Código Municipal, Decreto 12-2002"}],
                                    "previo_forma_notificacion": "correo_electronico",
                                    "previo_fecha_notificacion": iso(notified)})
    assert walk.ready() == ["recibir_subsanacion"]
    return walk


def present_fix(walk: Walk, received: datetime) -> Walk:
    """The desk receives what the previo asked for: the deadline stops; the clerk's verification is next."""
    walk.complete("recibir_subsanacion", {"subsanacion_fecha": iso(received),
                                          "subsanacion_documentos": ["Licencia municipal de sonido"]})
    assert walk.ready() == ["verificar_subsanacion"]
    return walk


def verify_fix(walk: Walk, complete: bool = True) -> Walk:
    """The clerk's verdict on what was presented: complete goes on, incomplete archives the case."""
    data = {"subsanacion_completa": complete}
    if not complete:
        data["verificacion_observaciones"] = "Falta la licencia municipal de sonido vigente."
    return walk.complete("verificar_subsanacion", data)


def fix(walk: Walk, received: datetime, complete: bool = True) -> Walk:
    """What the previo asked for is presented at the desk, then verified."""
    return verify_fix(present_fix(walk, received), complete)


def request_opinions(walk: Walk, sent: datetime | None = None) -> Walk:
    """The opinions were asked when the file was found complete (no clerk's step since the requests went to
    service tasks): the case waits for the answers of the institutions the table names. `sent` is ignored."""
    data = walk.data
    for who, (request, _answer) in WHO.items():
        if data.get(f"requiere_opinion_{who}"):
            assert data[request]["solicitud"].startswith("SOL-"), (who, data.get(request))
    return walk


def opinion(walk: Walk, who: str, received: datetime | None = None, sentido: str = "favorable") -> Walk:
    """The institution answers on its reply link (now, by the walk's clock; `received` only words the answer)."""
    from tests.processes.institution_walk import reply
    when = f" (oficio del {received:%d/%m/%Y})" if received else ""
    reply(walk, WHO[who][0], f"Opinión {sentido.replace('_', ' ')}{when} sobre la seguridad del evento.")
    assert walk.data[WHO[who][1]]["institucion"] == {"pnc": "pnc", "coordinador": "conred"}[who]
    return walk


def dictamen(walk: Walk, sentido: str = "favorable") -> Walk:
    walk.complete("elaborar_dictamen", {
        "dictamen_sentido": sentido,
        "dictamen_antecedentes": "Solicitud presentada con el plan de seguridad y la licencia de sonido.",
        "dictamen_analisis": "Cumple los requisitos del Decreto 574; la PNC opina favorablemente.",
        "dictamen_fundamento": "Decreto 574, art. 1; Decreto 114-97, art. 47.",
        "dictamen_conclusion": "Procede otorgar la licencia con las condiciones indicadas.",
        "licencia_condiciones": "Finalizar a las 23:00.", **RESOLUTION_DRAFT}, actor="juridico1")
    assert walk.ready() == ["firmar_resolucion"]
    return walk


def sign(walk: Walk, decision: str = "favorable") -> Walk:
    walk.complete("firmar_resolucion", {**RESOLUTION_DRAFT, "resolucion_decision": decision,
                                        "resolucion_fundamento": "Decreto 574, art. 1; Decreto 119-96, art. 3.",
                                        "cofirmante": "Ana Lucía Cutzal"}, actor="gobernador")
    assert walk.ready() == ["notificar_interesado"]
    return walk


def notify(walk: Walk, at: datetime) -> Walk:
    return walk.complete("notificar_interesado", {"notificacion_forma": "personal",
                                                  "notificacion_lugar": "Oficina de la Gobernación",
                                                  "notificacion_fecha_hora": iso(at),
                                                  "notificacion_recibido_por": "Ana Lucía Xicará"},
                         actor="notificador1")


def certificate(walk: Walk) -> Walk:
    return walk.complete("emitir_certificado", {"certificado_vigencia_desde": "2027-12-20",
                                                "certificado_vigencia_hasta": "2027-12-21"})


def appeal(walk: Walk, filed: datetime) -> Walk:
    walk.complete("registrar_recurso", {"recurso_tipo": "revocatoria", "recurso_fecha_presentacion": iso(filed),
                                        "recurso_argumentos": "La denegatoria no consideró el plan de seguridad."})
    assert walk.ready() == ["resolver_recurso"]
    return walk


def resolve_appeal(walk: Walk, decision: str) -> Walk:
    walk.complete("resolver_recurso", {"recurso_resolucion_numero": "RES-GDCH-2026-0150",
                                       "recurso_decision": decision,
                                       "recurso_fundamento_legal": "Decreto 119-96, arts. 7 y 8."}, actor="juridico1")
    assert walk.ready() == ["notificar_interesado"]
    return walk


def to_opinions(walk: Walk) -> Walk:
    """Receipt and a complete file: the opinions are asked at once and the case waits for them."""
    receive(walk)
    review(walk)
    asked = [who for who in WHO if walk.data.get(f"requiere_opinion_{who}")]
    assert walk.ready() == ([] if asked else ["elaborar_dictamen"])
    return walk


def due(walk: Walk, element_id: str) -> datetime:
    """The due moment (UTC) of the waiting timer `element_id`."""
    rows = [(d, s) for (e, d, s) in walk.timers() if e == element_id and s == "waiting"]
    assert len(rows) == 1, f"{element_id}: {walk.timers()}"
    value = rows[0][0]
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
