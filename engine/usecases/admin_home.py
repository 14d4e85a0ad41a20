"""The administrator's home (/admin): how many accounts, groups, lane rows, coming closure days and log entries."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.accounts.permissions import Principal, use_case
from engine.storage import models
from engine.timekeeping.calendar import OFFICE_TZ


@use_case("user.manage")
def admin_overview(svc, principal: Principal) -> dict:
    """Counts for the links of the administrator's home."""
    now = svc.clock()
    today = now.astimezone(OFFICE_TZ).date()
    u, f = models.users, models.login_failures
    count = select(func.count())
    with svc.uow(write=False) as uow:
        conn = uow.conn
        return {
            "active_users": conn.execute(count.select_from(u).where(u.c.active.is_(True))).scalar_one(),
            "inactive_users": conn.execute(count.select_from(u).where(u.c.active.is_(False))).scalar_one(),
            "locked_names": conn.execute(count.select_from(f).where(f.c.locked_until > now)).scalar_one(),
            "groups": conn.execute(count.select_from(models.groups)).scalar_one(),
            "lanes": conn.execute(count.select_from(models.lane_groups)).scalar_one(),
            "coming_closures": conn.execute(count.select_from(models.closure_days)
                                            .where(models.closure_days.c.day >= today)).scalar_one(),
            "log_entries": conn.execute(count.select_from(models.admin_log)).scalar_one(),
        }
