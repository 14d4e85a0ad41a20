"""Two clients completing one task at the same moment: one wins, the other gets 409 (SQLite and PostgreSQL)."""
from __future__ import annotations

import threading

from tests.api import probes
from tests.api.conftest import Client, make_app, seed, token_for


def test_two_clerks_completing_one_task_at_once_get_one_200_and_one_409(svc, tmp_path):
    seed(svc)
    app = make_app(svc, tmp_path)
    for attempt in range(5):  # several rounds: the race must never let both through
        task = probes.ready_task(svc)
        clients = [Client(app, token_for(svc, name)) for name in ("oficial1", "oficial2")]
        barrier = threading.Barrier(len(clients))
        statuses = []

        def complete(client):
            barrier.wait()
            statuses.append(client.post(f"/api/tasks/{task}/complete", json={"data": {"amount": 5}}).status_code)

        threads = [threading.Thread(target=complete, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [200, 409], attempt
        row = clients[0].get(f"/api/tasks/{task}").get_json()
        assert row["state"] == "completed" and row["completed_by"] in ("oficial1", "oficial2")


def test_two_supervisors_saving_one_draft_revision_at_once_get_one_200_and_one_409(svc, tmp_path):
    seed(svc)
    app = make_app(svc, tmp_path)
    clients = [Client(app, token_for(svc, name)) for name in ("supervisor1", "admin")]
    xml = probes.template_xml("carrera")
    assert clients[0].put("/api/drafts/carrera", json={"xml": xml, "revision": 0}).status_code == 200
    for attempt in range(5):
        revision = clients[0].get("/api/drafts/carrera").get_json()["revision"]
        barrier = threading.Barrier(len(clients))
        statuses = []

        def save(client, n):
            barrier.wait()
            body = {"xml": xml.replace("Revisar solicitud", f"Revisar {attempt}-{n}"), "revision": revision}
            statuses.append(client.put("/api/drafts/carrera", json=body).status_code)

        threads = [threading.Thread(target=save, args=(c, n)) for n, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [200, 409], attempt
        assert clients[0].get("/api/drafts/carrera").get_json()["revision"] == revision + 1
