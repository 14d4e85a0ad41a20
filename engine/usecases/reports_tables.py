"""The reports' results (engine/usecases/reports.py) as tables (engine.reports.tables.Table): what the page shows
beside its charts and what the CSV, XLSX and PDF downloads hold, with the labels in Spanish (msg)."""
from __future__ import annotations

from engine.messages import msg
from engine.reports.tables import DECIMAL, INT, Column, Table

TITLES = {
    "casos": msg("Casos presentados, resueltos y abiertos por mes"),
    "tiempos": msg("Tiempos de tramitación"),
    "plazos": msg("Plazos cumplidos, prorrogados y vencidos"),
    "carga": msg("Carga de trabajo por persona"),
}


def _procedure() -> Column:
    return Column(msg("Trámite"), "process_key")


def _durations(count_label) -> list[Column]:
    return [Column(count_label, "count", INT),
            Column(msg("Mediana (horas)"), "hours_median", DECIMAL), Column(msg("P90 (horas)"), "hours_p90", DECIMAL),
            Column(msg("Mediana (días hábiles)"), "days_median", DECIMAL),
            Column(msg("P90 (días hábiles)"), "days_p90", DECIMAL)]


def _deadline_columns() -> list[Column]:
    return [Column(msg("Plazos legales"), "legal_total", INT), Column(msg("Cumplidos"), "legal_met", INT),
            Column(msg("Prorrogados"), "legal_extended", INT), Column(msg("Vencidos"), "legal_breached", INT),
            Column(msg("Pendientes"), "legal_pending", INT),
            Column(msg("Tareas con plazo"), "task_total", INT), Column(msg("Tareas a tiempo"), "task_met", INT),
            Column(msg("Tareas vencidas"), "task_breached", INT),
            Column(msg("Tareas pendientes"), "task_pending", INT)]


def _with_total(rows: list[dict], totals: dict, key: str) -> list[dict]:
    return [*rows, {key: msg("Total"), **totals}]


def cases_table(result: dict) -> Table:
    return Table(TITLES["casos"], [Column(msg("Mes"), "month"), Column(msg("Presentados"), "filed", INT),
                                   Column(msg("Resueltos"), "resolved", INT),
                                   Column(msg("Cancelados"), "cancelled", INT),
                                   Column(msg("Abiertos al final del mes"), "open_at_end", INT)],
                 _with_total(result["rows"], result["totals"], "month"),
                 msg("Abiertos: presentados y aún no resueltos ni cancelados al final del mes (o del periodo)."))


def cycle_tables(result: dict) -> list[Table]:
    note = msg("Horas: tiempo transcurrido de reloj. Días hábiles: días laborables de la oficina después del día de "
               "inicio hasta el día de fin. P90: nueve de cada diez tardaron eso o menos.")
    return [Table(msg("Tiempo de tramitación por trámite (casos resueltos en el periodo)"),
                  [_procedure(), *_durations(msg("Casos resueltos"))], result["procedures"], note),
            Table(msg("Tiempo por paso (tareas completadas en el periodo)"),
                  [_procedure(), Column(msg("Paso"), "title"), *_durations(msg("Tareas completadas"))], result["steps"], note)]


def deadline_tables(result: dict) -> list[Table]:
    note = msg("Cuenta los plazos que vencen en el periodo. Plazos legales: los de la oficina. Prorrogados: con "
               "prórroga (se cuentan además como cumplidos, vencidos o pendientes). Vencidos: cumplidos tarde o "
               "abiertos después de su vencimiento.")
    return [Table(msg("Plazos por trámite"), [_procedure(), *_deadline_columns()],
                  _with_total(result["procedures"], result["totals"], "process_key"), note),
            Table(msg("Plazos por paso"), [_procedure(), Column(msg("Paso"), "title"), *_deadline_columns()],
                  result["steps"], note),
            Table(msg("Plazos por grupo"), [Column(msg("Grupo"), "group"), *_deadline_columns()],
                  result["groups"], note)]


def workload_table(result: dict) -> Table:
    return Table(TITLES["carga"], [Column(msg("Persona"), "name"), Column(msg("Usuario"), "username"),
                                   Column(msg("Tareas abiertas"), "open", INT), Column(msg("Vencidas"), "overdue", INT),
                                   Column(msg("Completadas en el periodo"), "completed", INT),
                                   Column(msg("Completadas tarde"), "completed_late", INT)],
                 _with_total(result["rows"], result["totals"], "name"),
                 msg("Tareas abiertas y vencidas: las que cada persona tiene asignadas ahora."))


def tables(report: str, result: dict) -> list[Table]:
    """The tables of one report's result, in the order the page shows them."""
    if report == "casos":
        return [cases_table(result)]
    if report == "tiempos":
        return cycle_tables(result)
    if report == "plazos":
        return deadline_tables(result)
    if report == "carga":
        return [workload_table(result)]
    raise KeyError(report)
