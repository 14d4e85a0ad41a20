"""Settings read from the environment in one place; tests build their own `Settings`."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'expediente.db'}"


DEFAULT_PLAZOS = {
    "subsanacion_dias": 10,          # licence: single request to fix (assumed), working days
    "opinion_pnc_dias": 5,           # police opinion (assumed), working days
    "opinion_coordinador_dias": 5,   # municipal disaster coordinator's opinion (assumed), working days
    "apelacion_dias": 5,             # revocatoria / reposición, working days (Decreto 119-96 arts. 7, 9)
    "laip_dias": 10,                 # access to information, working days (LAIP art. 42)
    "laip_prorroga_dias": 10,        # one notified extension (LAIP art. 43)
    "laip_revision_dias": 15,        # review appeal window
    "peticion_dias": 30,             # right of petition (Constitution art. 28), from ready-to-resolve
    "peticion_alerta_1_dias": 20,    # alert points (assumed)
    "peticion_alerta_2_dias": 25,
    "informe_area_dias": 5,          # area report (assumed), working days
    "certificaciones_dias": 15,      # RIC / property registry certificates (assumed), working days
    "mediacion_max_dias": 60,        # mediation session loop limit (assumed), calendar days
    "mediacion_max_sesiones": 6,     # mediation session loop limit by count (assumed)
    "respuesta_oficio_dias": 10,     # reply to an official letter (assumed), working days
    "aviso_codede_dias": 5,          # CODEDE session notice (assumed), calendar days ahead
    "licencia_respuesta_dias": 15,   # licence: current practice, working days (an alert on that day)
    "licencia_tope_dias": 30,        # licence: the legal cap (Constitution art. 28; Decreto 119-96 art. 1)
    "oficio_alerta_dias": 2,         # D1: alert this many working days before an oficio's reply deadline (assumed)
    "priorizacion_entrega_mes": 7,   # D3: CODEDE prioritization submitted by about 8 July (DOMAIN.md; assumed)
    "priorizacion_entrega_dia": 8,   #     month and day of that date
    "priorizacion_alerta_dias": 5,   # D3: reminder this many working days before that date (assumed)
    "mediacion_seguimiento_1_dias": 30,  # C: follow-ups of a mediation agreement, calendar days from the
    "mediacion_seguimiento_2_dias": 60,  #    acta (DOMAIN.md: 30, 60, 90; calendar days assumed)
    "mediacion_seguimiento_3_dias": 90,
    "mediacion_max_reaperturas": 1,  # C: times a breached agreement may reopen the dialogue (assumed)
}

# The LAIP request and the general petition are one procedure (solicitud_ciudadana), chosen by its category.
DEFAULT_ONLINE_PROCEDURES = ("licencia", "solicitud_ciudadana")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # Pattern for case numbers; {year} and {seq} are filled in. The sequence restarts every year.
    case_number_pattern: str = "EXP-GDCH-{year}-{seq:05d}"
    # Characters of a case's tracking code (31 symbols, about 4.95 bits each): 10 give 49.5 bits, past the 40 the
    # public status page (/consulta) needs against guessing, besides its rate limits.
    tracking_code_length: int = 10
    # A message that arrives before its case waits for it is kept this many days, then becomes undeliverable.
    message_pending_days: int = 30
    # Deliver queued messages right after the transaction that queued them commits (else: the scheduler's pass).
    deliver_messages_at_once: bool = True
    script_time_limit_seconds: float = 2.0
    # Scripts run in worker processes (engine.sandbox.pool): how many per server process, and the address space
    # each may use (a script's huge allocation fails there as a MemoryError).
    script_workers: int = 2
    script_memory_limit_mb: int = 512
    # A case whose task tree gets deeper than this is stopped with a clear error instead of
    # letting SpiffWorkflow's walkers silently stop (see SPIFFWORKFLOW_NOTES "Loops").
    max_task_depth: int = 20_000
    # Automatic steps (scripts, gateways) allowed before the case must wait; stops endless cycles.
    max_engine_steps: int = 1_000
    # Rounds a parallel join may run inside a loop in one case (SpiffWorkflow slows sharply past it).
    max_join_rounds: int = 50
    sqlite_busy_timeout_ms: int = 10_000
    # FULL: an acknowledged step survives a power cut. NORMAL is only for experiments.
    sqlite_synchronous: str = "FULL"
    # Deadlines the diagrams read with plazo("name"); figures from DOMAIN.md, "assumed" ones are
    # the office's choice. Override with EXPEDIENTE_PLAZOS='{"subsanacion_dias": 15}'.
    plazos: dict = field(default_factory=lambda: dict(DEFAULT_PLAZOS))
    # How long an Idempotency-Key (and a page form's one-time token) is remembered; the scheduler purges older ones.
    idempotency_retention_seconds: int = 24 * 3600
    # Where citizens reach the office's server: the QR code of an issued document points to
    # {public_base_url}/verificar/<code>, so it must be the address seen from outside (HTTPS behind a proxy).
    public_base_url: str = "http://127.0.0.1:5000"
    # Number patterns of document kinds overriding engine/documents/kinds.py, e.g. {"resolucion": "R-{year}-{seq:03d}"}.
    document_numbers: dict = field(default_factory=dict)
    # The office's signing certificate, its key and the chain up to the authority verifiers trust (PEM paths;
    # engine/documents/signing.py). Without them documents carry their verification code and recorded signers.
    signing_cert: str | None = None
    signing_key: str | None = None
    signing_chain: str | None = None
    signing_key_password: str | None = None
    # Procedures citizens may file online (/tramites), by process key; each needs an intake form with the citizen's
    # e-mail field (x-correo-ciudadano). Override with EXPEDIENTE_ONLINE_PROCEDURES='["licencia"]'.
    online_procedures: tuple[str, ...] = DEFAULT_ONLINE_PROCEDURES
    # The office's Ed25519 key (PKCS#8 PEM) that signs the history's checkpoints and case exports (engine/audit);
    # created on first use. None: var/audit/ed25519.pem. Keep a copy apart from the database's backups.
    audit_key: str | None = None
    # The Governor's office address the scheduler mails the monthly summary for the ministry to, on the first working
    # day of each month (engine/usecases/monthly_report.py). None: nothing is mailed.
    reports_email: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Settings":
        """Build settings from EXPEDIENTE_* environment variables."""
        env = os.environ if environ is None else environ
        kwargs = {}
        if "EXPEDIENTE_DATABASE_URL" in env:
            kwargs["database_url"] = env["EXPEDIENTE_DATABASE_URL"]
        if "EXPEDIENTE_CASE_NUMBER_PATTERN" in env:
            kwargs["case_number_pattern"] = env["EXPEDIENTE_CASE_NUMBER_PATTERN"]
        if "EXPEDIENTE_SCRIPT_TIME_LIMIT_SECONDS" in env:
            kwargs["script_time_limit_seconds"] = float(env["EXPEDIENTE_SCRIPT_TIME_LIMIT_SECONDS"])
        if "EXPEDIENTE_SCRIPT_WORKERS" in env:
            kwargs["script_workers"] = int(env["EXPEDIENTE_SCRIPT_WORKERS"])
        if "EXPEDIENTE_SCRIPT_MEMORY_LIMIT_MB" in env:
            kwargs["script_memory_limit_mb"] = int(env["EXPEDIENTE_SCRIPT_MEMORY_LIMIT_MB"])
        if "EXPEDIENTE_PLAZOS" in env:
            kwargs["plazos"] = {**DEFAULT_PLAZOS, **json.loads(env["EXPEDIENTE_PLAZOS"])}
        if "EXPEDIENTE_IDEMPOTENCY_RETENTION_SECONDS" in env:
            kwargs["idempotency_retention_seconds"] = int(env["EXPEDIENTE_IDEMPOTENCY_RETENTION_SECONDS"])
        if "EXPEDIENTE_PUBLIC_BASE_URL" in env:
            kwargs["public_base_url"] = env["EXPEDIENTE_PUBLIC_BASE_URL"].rstrip("/")
        if "EXPEDIENTE_DOCUMENT_NUMBERS" in env:
            numbers = json.loads(env["EXPEDIENTE_DOCUMENT_NUMBERS"])
            if not isinstance(numbers, dict) or not all(isinstance(v, str) for v in numbers.values()):
                raise ValueError("EXPEDIENTE_DOCUMENT_NUMBERS must be a JSON object of kind: pattern")
            kwargs["document_numbers"] = numbers
        for name in ("signing_cert", "signing_key", "signing_chain", "signing_key_password"):
            if env.get(f"EXPEDIENTE_{name.upper()}"):
                kwargs[name] = env[f"EXPEDIENTE_{name.upper()}"]
        if "EXPEDIENTE_ONLINE_PROCEDURES" in env:
            keys = json.loads(env["EXPEDIENTE_ONLINE_PROCEDURES"])
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise ValueError("EXPEDIENTE_ONLINE_PROCEDURES must be a JSON list of process keys")
            kwargs["online_procedures"] = tuple(keys)
        if env.get("EXPEDIENTE_REPORTS_EMAIL"):
            kwargs["reports_email"] = env["EXPEDIENTE_REPORTS_EMAIL"].strip()
        if env.get("EXPEDIENTE_AUDIT_KEY"):
            kwargs["audit_key"] = env["EXPEDIENTE_AUDIT_KEY"]
        if "EXPEDIENTE_SQLITE_SYNCHRONOUS" in env:
            kwargs["sqlite_synchronous"] = env["EXPEDIENTE_SQLITE_SYNCHRONOUS"].upper()
        return cls(**kwargs)
