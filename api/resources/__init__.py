"""One smorest blueprint per resource noun."""
from api.resources import (
    attachments, audit, cases, closures, documents, drafts, groups, lanes, messages, processes, session, tasks, tokens,
    users,
)

BLUEPRINTS = [closures.blp, session.blp, processes.blp, cases.blp, tasks.blp, attachments.blp, users.blp, groups.blp,
              lanes.blp, tokens.blp, drafts.blp, documents.blp,
              audit.blp, messages.blp]

from api.resources import institutions  # noqa: E402  (institutions that answer by link)

BLUEPRINTS.append(institutions.blp)

from api.resources import admin_log  # noqa: E402  (the administration log)

BLUEPRINTS.append(admin_log.blp)

from api.resources import heatmap  # noqa: E402  (reports: the diagram as a heat map)

BLUEPRINTS.append(heatmap.blp)

from api.resources import decisions  # noqa: E402  (decision tables of a draft)

BLUEPRINTS.append(decisions.blp)

from api.resources import trials  # noqa: E402  (trial runs of drafts, guided fixes for imported diagrams)

BLUEPRINTS.append(trials.blp)

from api.resources import draft_forms  # noqa: E402  (forms of a draft and their preview)

BLUEPRINTS.append(draft_forms.blp)

from api.resources import reports  # noqa: E402  (the general reports: cases, cycle times, deadlines, workload)

BLUEPRINTS.append(reports.blp)

from api.resources import migrations  # noqa: E402  (running cases moved to another version)

BLUEPRINTS.append(migrations.blp)

from api.resources import annual_reports  # noqa: E402  (reports: LAIP annual report, monthly summary)

BLUEPRINTS.append(annual_reports.blp)
