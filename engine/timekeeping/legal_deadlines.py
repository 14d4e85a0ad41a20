"""The legal deadlines the office's procedures run: a catalogue (basis, length, who owns the time, how days count)
and the pure arithmetic of their due moments on the office calendar.

A diagram binds a deadline to its elements with the extension property `plazoLegal`, whose value lists actions on
catalogue keys, e.g. "abre:laip_respuesta" or "cierra:recurso_revocatoria, abre:otro":

- abre:K      when the element completes, K's row opens (started at the catalogue's start variable, else then);
- prorroga:K  when the element completes, K's due moment is read again from its variable (an extension: LAIP art. 43);
- aviso:K     when the element completes, the citizen was told of K's extension;
- cierra:K    when the element completes, K's row closes (met if by its due moment, late after it).

engine.usecases.legal_deadlines keeps the rows; this module knows no database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from engine.messages import msg

PROPERTY = "plazoLegal"
ACTIONS = ("abre", "prorroga", "aviso", "cierra")
OWNER_STAFF, OWNER_CITIZEN, OWNER_INSTITUTION = "oficina", "ciudadano", "institucion"
# How the days count: working days to the office's closing time; the same after the 16:30 filing cut-off (the
# LAIP's "from the next working day"); calendar days (moved to a working day when the office is closed).
WORKING, WORKING_CUTOFF, CALENDAR = "habiles", "habiles_corte", "calendario"


@dataclass(frozen=True)
class LegalDeadline:
    key: str
    title: str
    basis: str
    days_setting: str | None          # a plazo setting (engine.config DEFAULT_PLAZOS); None: the due date is data
    owner: str = OWNER_STAFF
    counting: str = WORKING
    start_var: str | None = None      # the data holding the start moment; None: when the opening element completes
    due_var: str | None = None        # the data the diagram's timers read ("a.b": key b of dict a); kept in step
    days_var: str | None = None       # data overriding the number of days (an oficio inheriting a petition's 30)
    days_factor: int = 1              # the setting times this (a consultation gets twice an oficio's time)
    alert_settings: tuple[str, ...] = ()   # plazo settings naming the working days of the alerts (e.g. day 20, 25)
    extension_setting: str | None = None
    extension_basis: str | None = None
    assumed: bool = False             # the figure is the office's choice, not the law's (DOMAIN.md "assumed")

    @property
    def alerts_staff(self) -> bool:
        return self.owner != OWNER_CITIZEN


def _d(*args, **kwargs) -> tuple[str, LegalDeadline]:
    deadline = LegalDeadline(*args, **kwargs)
    return deadline.key, deadline


CATALOGUE: dict[str, LegalDeadline] = dict([
    _d("laip_respuesta", msg("Respuesta a la solicitud de información pública"),
       "Ley de Acceso a la Información Pública (Decreto 57-2008), art. 42: 10 días hábiles desde el día hábil "
       "siguiente a la presentación", "laip_dias", counting=WORKING_CUTOFF, start_var="fecha_presentacion",
       due_var="laip_fecha_limite", extension_setting="laip_prorroga_dias",
       extension_basis="Decreto 57-2008, art. 43: una prórroga de 10 días hábiles, notificada al solicitante"),
    _d("laip_revision", msg("Plazo del solicitante para el recurso de revisión"),
       "Decreto 57-2008: recurso de revisión dentro de 15 días hábiles desde la notificación",
       "laip_revision_dias", owner=OWNER_CITIZEN, start_var="fecha_notificacion"),
    _d("peticion_informe_area", msg("Informe del área responsable"),
       "Providencia al área responsable (plazo fijado por la oficina)", "informe_area_dias",
       start_var="peticion_fecha_providencia", assumed=True),
    _d("peticion_resolucion", msg("Resolver y notificar la petición"),
       "Constitución Política, art. 28; Ley de lo Contencioso Administrativo (Decreto 119-96), art. 1: 30 días "
       "desde que el expediente está listo para resolver, contados en días hábiles (Ley del Organismo Judicial, "
       "art. 45)", "peticion_dias", start_var="peticion_fecha_listo", due_var="peticion_fecha_limite",
       alert_settings=("peticion_alerta_1_dias", "peticion_alerta_2_dias")),
    _d("peticion_traslado", msg("Trasladar la petición a la institución competente y notificarlo"),
       "Constitución Política, art. 28; Decreto 119-96, art. 1: la petición que no es de la competencia de la "
       "Gobernación se traslada dentro de los 30 días, contados desde la presentación", "peticion_dias",
       start_var="fecha_presentacion_efectiva", due_var="peticion_fecha_limite"),
    _d("recurso_revocatoria", msg("Plazo del interesado para recurrir (revocatoria o reposición)"),
       "Decreto 119-96, arts. 7 y 9: 5 días hábiles desde la notificación", "apelacion_dias",
       owner=OWNER_CITIZEN, start_var="fecha_notificacion"),
    _d("subsanacion", msg("Plazo del interesado para subsanar el previo"),
       "Ley de Simplificación de Requisitos y Trámites Administrativos (Decreto 5-2021): requerimiento único; "
       "plazo para subsanar fijado por la oficina", "subsanacion_dias", owner=OWNER_CITIZEN,
       start_var="previo_fecha_notificacion", due_var="subsanacion_vence", assumed=True),
    _d("licencia_resolucion", msg("Resolver y notificar la licencia"),
       "Constitución Política, art. 28; Decreto 119-96, art. 1: 30 días hábiles desde que el expediente está "
       "completo (la práctica de la oficina es responder en 15)", "licencia_tope_dias",
       start_var="licencia_fecha_completo", due_var="respuesta_tope",
       alert_settings=("licencia_respuesta_dias",)),
    _d("opinion_pnc", msg("Opinión de la Policía Nacional Civil"), "Plazo fijado por la oficina para la opinión",
       "opinion_pnc_dias", owner=OWNER_INSTITUTION, counting=WORKING_CUTOFF, due_var="solicitud_pnc.vence",
       assumed=True),
    _d("opinion_coordinador", msg("Opinión del coordinador municipal de gestión de riesgo"),
       "Plazo fijado por la oficina para la opinión", "opinion_coordinador_dias", owner=OWNER_INSTITUTION, counting=WORKING_CUTOFF,
       due_var="solicitud_coordinador.vence", assumed=True),
    _d("certificacion_ric", msg("Certificación catastral del RIC"), "Plazo fijado por la oficina para la certificación",
       "certificaciones_dias", owner=OWNER_INSTITUTION, counting=WORKING_CUTOFF, due_var="solicitud_ric.vence",
       assumed=True),
    _d("certificacion_registro", msg("Certificación del Registro de la Propiedad"),
       "Plazo fijado por la oficina para la certificación", "certificaciones_dias", owner=OWNER_INSTITUTION,
       counting=WORKING_CUTOFF,
       due_var="solicitud_registro.vence", assumed=True),
    _d("mediacion_dialogo", msg("Plazo máximo de la mesa de diálogo"),
       "Plazo fijado por la oficina: días calendario desde la primera sesión", "mediacion_max_dias",
       counting=CALENDAR, start_var="mediacion_fecha_primera_sesion", assumed=True),
    _d("oficio_respuesta", msg("Respuesta al oficio recibido"),
       "Plazo fijado por la oficina; un oficio que traslada una petición hereda lo que queda de sus 30 días "
       "(Constitución, art. 28)", "respuesta_oficio_dias", start_var="oficio_fecha_recepcion_efectiva",
       due_var="oficio_vencimiento", days_var="oficio_plazo_dias", assumed=True),
    _d("consulta_institucion", msg("Respuesta de la institución consultada"),
       "Plazo fijado por la oficina: el doble del plazo de respuesta de oficios", "respuesta_oficio_dias",
       owner=OWNER_INSTITUTION, counting=WORKING_CUTOFF, days_factor=2,
       due_var="consulta_solicitud.vence", assumed=True),
    _d("priorizacion_entrega", msg("Entrega de la priorización de proyectos al CODEDE"),
       "Calendario del Sistema Nacional de Inversión Pública: alrededor del 8 de julio", None,
       due_var="priorizacion_fecha_entrega", assumed=True),
])

def parse_actions(value) -> list[tuple[str, str]]:
    """The (action, key) pairs of a `plazoLegal` property value; ValueError names what is wrong."""
    found = []
    for part in str(value or "").split(","):
        part = part.strip()
        if not part:
            continue
        action, _, key = part.partition(":")
        action, key = action.strip(), key.strip()
        if action not in ACTIONS:
            raise ValueError(f"'{part}': the action must be one of {', '.join(ACTIONS)}")
        if key not in CATALOGUE:
            raise ValueError(f"'{part}': '{key}' is not a legal deadline of the catalogue")
        found.append((action, key))
    return found


def read_path(data: dict, path: str | None):
    """The value at `path` ("a" or "a.b") of a task's data, or None."""
    if not path or not isinstance(data, dict):
        return None
    head, _, tail = path.partition(".")
    value = data.get(head)
    if tail:
        return value.get(tail) if isinstance(value, dict) else None
    return value


def write_path(data: dict, path: str, value) -> bool:
    """Set `path` in a task's data where it already exists; True if something changed."""
    head, _, tail = path.partition(".")
    if head not in data:
        return False
    if tail:
        inner = data[head]
        if not isinstance(inner, dict) or tail not in inner or inner[tail] == value:
            return False
        data[head] = {**inner, tail: value}
        return True
    if data[head] == value:
        return False
    data[head] = value
    return True


def parse_moment(value, tz) -> datetime | None:
    """An ISO date or datetime from case data as an aware datetime (a bare date: the office's midnight)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@dataclass
class Schedule:
    """What a row needs to compute its due moment again (a closure day added or removed)."""

    start: datetime
    days: int | None
    counting: str
    extension_days: int = 0
    alert_days: tuple[int, ...] = field(default=())


def due_moment(calendar, schedule: Schedule) -> datetime | None:
    """The due moment (UTC) of a schedule on the calendar as it now is; None for a deadline fixed by date."""
    if schedule.days is None:
        return None
    if schedule.counting == CALENDAR:
        day = calendar.add_days(schedule.start, schedule.days, working=False)
        due = calendar.at_closing(day)
    elif schedule.counting == WORKING_CUTOFF:
        due = calendar.deadline(schedule.start, schedule.days, apply_cutoff=True)
    else:
        due = calendar.at_closing(calendar.add_working_days(schedule.start, schedule.days))
    if schedule.extension_days:
        due = calendar.deadline(due, schedule.extension_days)
    return due.astimezone(timezone.utc)


def alert_moments(calendar, schedule: Schedule) -> list[tuple[str, datetime]]:
    """(point, UTC moment) of the alerts: the morning of each alert day counted from the start."""
    opening = calendar.settings.opening_time
    return [(f"dia-{day}", datetime.combine(calendar.add_working_days(schedule.start, day), opening,
                                            tzinfo=calendar.tz).astimezone(timezone.utc))
            for day in schedule.alert_days]
