"""Drafts over HTTP: save with problems pinned on elements, publish as versions, versions and their diff."""
from __future__ import annotations

import re

from tests.api.conftest import PASSWORD
from tests.api.probes import template_xml

START_FORM = re.compile(r"<bpmn:extensionElements>\s*<spiffworkflow:properties>\s*"
                        r'<spiffworkflow:property name="form" value="solicitud_ciudadana"/>\s*'
                        r"</spiffworkflow:properties>\s*</bpmn:extensionElements>")


def _no_intake(xml: str) -> str:
    """The template without its intake form, so a test can start a case with no data."""
    return START_FORM.sub("", xml, count=1)


def _publish_new(sup, key: str, xml: str, comment: str = "Primera versión"):
    assert sup.put(f"/api/drafts/{key}", json={"xml": xml}).status_code == 200
    return sup.post(f"/api/drafts/{key}/publish", json={"comment": comment})


def test_new_procedure_starts_from_a_valid_template(as_user):
    sup = as_user("supervisor1")
    r = sup.post("/api/drafts", json={"process_key": "permiso_eventos", "name": "Permiso de eventos"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["base_version"] is None and body["valid"] is True
    assert [p for p in body["problems"] if p["severity"] == "error"] == []
    assert 'id="permiso_eventos"' in body["xml"] and "Permiso de eventos" in body["xml"]
    assert sup.post("/api/drafts", json={"process_key": "permiso_eventos"}).status_code == 409
    assert [d["process_key"] for d in sup.get("/api/drafts").get_json()] == ["permiso_eventos"]


def test_saving_returns_problems_pinned_on_their_elements(as_user):
    sup = as_user("supervisor1")
    xml = template_xml("con_errores")
    xml = xml.replace('<spiffworkflow:property name="form" value="revision_completitud"/>', "")
    xml = xml.replace('value="solicitud_ciudadana"', 'value="no_existe"')
    xml = xml.replace('name="Ventanilla"', 'name="Carril sin grupo"')
    r = sup.put("/api/drafts/con_errores", json={"xml": xml})
    assert r.status_code == 200
    body = r.get_json()
    assert body["valid"] is False
    pinned = {(p["element_id"], p["message"].split(":")[0]) for p in body["problems"]}
    assert ("register", "La tarea de usuario «Revisar solicitud» (register) no tiene formulario") in pinned
    assert any(e == "register" and "«Carril sin grupo»" in m and "no está asignado a ningún grupo" in m
               for e, m in ((p["element_id"], p["message"]) for p in body["problems"]))
    assert any(p["element_id"] == "start" and "«no_existe»" in p["message"] for p in body["problems"])

    refused = sup.post("/api/drafts/con_errores/publish", json={"comment": "intento"})
    assert refused.status_code == 422
    assert "register" in {e["element_id"] for e in refused.get_json()["errors"]}
    assert sup.get("/api/processes/con_errores/versions").status_code == 404  # nothing was deployed


def test_problems_are_spanish_by_default_and_english_on_request(as_user):
    """The engine writes Spanish; the API answers in the request's language (Accept-Language or the session's)."""
    sup = as_user("supervisor1")
    xml = template_xml("idiomas").replace('<spiffworkflow:property name="form" value="revision_completitud"/>', "")

    def problem_of(response):
        assert response.status_code == 200
        [problem] = [p for p in response.get_json()["problems"] if p["element_id"] == "register"]
        return problem["message"]

    spanish = problem_of(sup.put("/api/drafts/idiomas", json={"xml": xml}))
    assert spanish == ("La tarea de usuario «Revisar solicitud» (register) no tiene formulario: elija el formulario "
                       "que llena quien atiende la tarea (propiedad «form»).")
    assert problem_of(sup.put("/api/drafts/idiomas", json={"xml": xml}, headers={"Accept-Language": "es-GT"})) \
        == spanish
    english = problem_of(sup.put("/api/drafts/idiomas", json={"xml": xml}, headers={"Accept-Language": "en-US"}))
    assert english == ("The user task 'Revisar solicitud' (register) has no form: choose the form the clerk "
                       "fills in (property 'form').")
    assert problem_of(sup.get("/api/drafts/idiomas", headers={"Accept-Language": "en"})) == english

    # Nested parts (the kind of element, the expression's label) are translated too.
    broken = xml.replace('<bpmn:sequenceFlow id="flow_register_end" sourceRef="register" targetRef="end"/>',
                         '<bpmn:sequenceFlow id="flow_register_end" sourceRef="register" targetRef="end">'
                         '<bpmn:conditionExpression>x = = 1</bpmn:conditionExpression></bpmn:sequenceFlow>')
    for language, start in (("es", "La condición del flujo de secuencia sin nombre (flow_register_end) no es una "
                                   "expresión Python válida («x = = 1»): error de sintaxis en la línea 1"),
                            ("en", "Condition of the sequence flow without a name (flow_register_end) is not a valid "
                                   "Python expression ('x = = 1'): syntax error on line 1")):
        body = sup.put("/api/drafts/idiomas", json={"xml": broken}, headers={"Accept-Language": language}).get_json()
        assert any(p["element_id"] == "flow_register_end" and p["message"].startswith(start)
                   for p in body["problems"]), body["problems"]

    # Publishing is refused with problem+json: its detail and errors follow the language as well.
    for language, text in (("es", "no tiene formulario"), ("en", "has no form")):
        refused = sup.post("/api/drafts/idiomas/publish", json={"comment": "intento"},
                           headers={"Accept-Language": language})
        assert refused.status_code == 422
        doc = refused.get_json()
        assert any(e["element_id"] == "register" and text in e["message"] for e in doc["errors"]), doc["errors"]
        first = doc["errors"][0]
        assert doc["detail"] == f"{first['file']}:{first['line']} [{first['element_id']}]: {first['message']}"


def test_the_language_chosen_in_the_session_wins(app):
    """A supervisor who chose English on the pages (/idioma/en) gets English problems from the API too."""
    client = app.test_client()
    login = client.post("/api/session", json={"username": "supervisor1", "password": PASSWORD})
    assert login.status_code == 200, login.get_json()
    assert client.get("/idioma/en").status_code == 302
    xml = template_xml("sesion_en").replace('<spiffworkflow:property name="form" value="revision_completitud"/>', "")
    response = client.put("/api/drafts/sesion_en", json={"xml": xml},
                          headers={"Accept-Language": "es", "X-CSRF-Token": login.get_json()["csrf_token"]})
    assert response.status_code == 200, response.get_json()
    assert "The user task 'Revisar solicitud' (register) has no form: choose the form the clerk fills in " \
           "(property 'form')." in \
        [p["message"] for p in response.get_json()["problems"]]


def test_a_broken_script_and_an_unconditioned_branch_are_reported_by_element(as_user):
    sup = as_user("supervisor1")
    xml = template_xml("guion").replace(
        '<bpmn:sequenceFlow id="flow_register_end" sourceRef="register" targetRef="end"/>',
        '<bpmn:sequenceFlow id="flow_register_end" sourceRef="register" targetRef="calc"/>'
        '<bpmn:scriptTask id="calc" name="Calcular"><bpmn:script>total = = 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="flow_calc_end" sourceRef="calc" targetRef="end"/>')
    problems = sup.put("/api/drafts/guion", json={"xml": xml}).get_json()["problems"]
    assert "calc" in {p["element_id"] for p in problems}


def test_unreadable_xml_is_saved_as_a_draft_with_its_problem(as_user):
    sup = as_user("supervisor1")
    body = sup.put("/api/drafts/roto", json={"xml": "<bpmn:definitions"}).get_json()
    assert body["valid"] is False and "no está bien formado" in body["problems"][0]["message"]
    doctype = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x/>'
    assert sup.put("/api/drafts/roto", json={"xml": doctype}).get_json()["valid"] is False


def test_publishing_makes_a_version_and_running_cases_keep_theirs(as_user):
    sup = as_user("supervisor1")
    r = _publish_new(sup, "tramite_simple", _no_intake(template_xml("tramite_simple")))
    assert r.status_code == 201 and r.get_json()["version"] == 1
    assert sup.get("/api/drafts/tramite_simple").status_code == 404  # the draft became the version
    old_case = sup.post("/api/cases", json={"process_key": "tramite_simple", "data": {}}).get_json()

    draft = sup.post("/api/drafts", json={"process_key": "tramite_simple"}).get_json()
    assert draft["base_version"] == 1
    xml = draft["xml"].replace('name="Revisar solicitud"', 'name="Revisar la solicitud completa"') \
        .replace('name="deadlineWorkingDays" value="5"', 'name="deadlineWorkingDays" value="8"')
    assert sup.put("/api/drafts/tramite_simple", json={"xml": xml}).get_json()["valid"] is True
    r = sup.post("/api/drafts/tramite_simple/publish", json={"comment": "Plazo de 8 días"})
    assert r.status_code == 201 and r.get_json()["version"] == 2
    new_case = sup.post("/api/cases", json={"process_key": "tramite_simple", "data": {}}).get_json()

    assert sup.get(f"/api/cases/{old_case['id']}").get_json()["process_version"] == 1
    assert sup.get(f"/api/cases/{new_case['id']}").get_json()["process_version"] == 2
    versions = sup.get("/api/processes/tramite_simple/versions").get_json()
    assert [(v["version"], v["created_by"], v["comment"], v["open_cases"]) for v in versions] == [
        (1, "supervisor1", "Primera versión", 1), (2, "supervisor1", "Plazo de 8 días", 1)]


def test_publishing_refuses_a_draft_opened_before_another_publication(as_user):
    sup, admin = as_user("supervisor1"), as_user("admin")
    assert _publish_new(sup, "carrera", template_xml("carrera")).status_code == 201
    xml = sup.post("/api/drafts", json={"process_key": "carrera"}).get_json()["xml"]
    admin.delete("/api/drafts/carrera")
    admin.post("/api/drafts", json={"process_key": "carrera"})
    admin.put("/api/drafts/carrera", json={"xml": xml.replace("Revisar solicitud", "Revisar")})
    assert admin.post("/api/drafts/carrera/publish", json={"comment": "admin"}).status_code == 201
    sup.put("/api/drafts/carrera", json={"xml": xml.replace("Revisar solicitud", "Otra")})
    assert sup.get("/api/drafts/carrera").get_json()["base_version"] == 2  # a new draft starts from the latest
    sup.put("/api/drafts/carrera", json={"xml": xml, "base_version": 1})
    assert sup.post("/api/drafts/carrera/publish", json={"comment": "tarde"}).status_code == 409


def test_a_draft_calling_a_deployed_process_resolves_the_call(as_user):
    sup = as_user("supervisor1")
    assert _publish_new(sup, "llamado", template_xml("llamado")).status_code == 201
    xml = template_xml("llamador").replace(
        '<bpmn:sequenceFlow id="flow_register_end" sourceRef="register" targetRef="end"/>',
        '<bpmn:sequenceFlow id="flow_register_end" sourceRef="register" targetRef="call"/>'
        '<bpmn:callActivity id="call" name="Subproceso" calledElement="llamado"/>'
        '<bpmn:sequenceFlow id="flow_call_end" sourceRef="call" targetRef="end"/>')
    r = _publish_new(sup, "llamador", xml)
    assert r.status_code == 201, r.get_json()
    assert len(sup.get("/api/processes/llamado/versions").get_json()) == 1  # the called process is not redeployed


def test_draft_downloads_as_a_bpmn_file(as_user):
    sup = as_user("supervisor1")
    sup.post("/api/drafts", json={"process_key": "descarga"})
    r = sup.get("/api/drafts/descarga/bpmn")
    assert r.status_code == 200 and r.mimetype == "application/xml"
    assert 'filename="descarga.bpmn"' in r.headers["Content-Disposition"]
    assert b'id="descarga"' in r.data


def test_invalid_keys_and_missing_drafts_are_refused(as_user):
    sup = as_user("supervisor1")
    assert sup.post("/api/drafts", json={"process_key": "1 malo"}).status_code == 400
    assert sup.get("/api/drafts/no_hay").status_code == 404
    assert sup.delete("/api/drafts/no_hay").status_code == 404
    assert sup.post("/api/drafts/no_hay/publish", json={"comment": "x"}).status_code == 404


def test_diff_of_two_versions_lists_added_removed_and_changed_elements(as_user):
    sup = as_user("supervisor1")
    _publish_new(sup, "cambios", template_xml("cambios"))
    xml = sup.post("/api/drafts", json={"process_key": "cambios"}).get_json()["xml"]
    xml = xml.replace('name="Revisar solicitud"', 'name="Revisar"').replace(
        '<bpmn:sequenceFlow id="flow_register_end" sourceRef="register" targetRef="end"/>',
        '<bpmn:sequenceFlow id="flow_register_end" sourceRef="register" targetRef="fin2"/>'
        '<bpmn:endEvent id="fin2"/>')
    xml = re.sub(r'<bpmn:endEvent id="end".*?</bpmn:endEvent>', "", xml, flags=re.S)
    sup.put("/api/drafts/cambios", json={"xml": xml})
    draft_diff = sup.get("/api/drafts/cambios/diff").get_json()
    assert draft_diff["old"] == 1 and draft_diff["new"] is None
    assert sup.post("/api/drafts/cambios/publish", json={"comment": "Otro fin"}).status_code == 201

    d = sup.get("/api/processes/cambios/versions/1/diff/2").get_json()
    assert d == {**draft_diff, "new": 2}
    assert {"id": "fin2", "type": "endEvent", "name": None} in d["added"]
    assert "end" in {e["id"] for e in d["removed"]}
    changed = {e["id"]: e["changes"] for e in d["changed"]}
    assert {"field": "name", "old": "Revisar solicitud", "new": "Revisar"} in changed["register"]
    assert {"field": "attribute:targetRef", "old": "end", "new": "fin2"} in changed["flow_register_end"]
    assert sup.get("/api/processes/cambios/versions/1/diff/9").status_code == 404


def test_a_deadline_that_is_neither_days_nor_a_plazo_is_pinned_on_its_task(as_user):
    """The engine would silently give such a task no deadline; the supervisor must hear of it on save."""
    sup = as_user("supervisor1")
    xml = template_xml("plazos")
    assert 'name="deadlineWorkingDays" value="5"' in xml
    for value, valid in (("cinco", False), ("0", False), ("apelacion_dias", True), (" 8 ", True)):
        body = sup.put("/api/drafts/plazos", json={"xml": xml.replace(
            'name="deadlineWorkingDays" value="5"', f'name="deadlineWorkingDays" value="{value}"')}).get_json()
        wrong = [p for p in body["problems"] if "no es un número de días hábiles" in p["message"]]
        assert body["valid"] is valid and len(wrong) == (0 if valid else 1), (value, body["problems"])
        if wrong:
            assert wrong[0]["element_id"] == "register" and wrong[0]["severity"] == "error"
            assert f"«{value}»" in wrong[0]["message"] and "apelacion_dias" in wrong[0]["message"]


def test_a_save_built_on_an_older_revision_is_refused_and_changes_nothing(as_user):
    """Two supervisors with the same draft open: the second to save is told who saved first (409)."""
    ana, admin = as_user("supervisor1"), as_user("admin")
    xml = template_xml("doble")
    first = ana.put("/api/drafts/doble", json={"xml": xml, "revision": 0})  # 0: she expects no draft yet
    assert first.status_code == 200 and first.get_json()["revision"] == 1
    assert admin.put("/api/drafts/doble", json={"xml": xml, "revision": 0}).status_code == 409  # it exists now
    mine = xml.replace("Revisar solicitud", "Revisar la solicitud")
    assert ana.put("/api/drafts/doble", json={"xml": mine, "revision": 1}).get_json()["revision"] == 2
    stale = admin.put("/api/drafts/doble", json={"xml": xml.replace("Revisar solicitud", "Otra"), "revision": 1})
    assert stale.status_code == 409
    assert "supervisor1 guardó el borrador" in stale.get_json()["detail"]
    draft = ana.get("/api/drafts/doble").get_json()
    assert draft["revision"] == 2 and "Revisar la solicitud" in draft["xml"] and "Otra" not in draft["xml"]
    # Publishing a revision other than the one on the supervisor's screen is refused too.
    assert admin.post("/api/drafts/doble/publish", json={"comment": "v1", "revision": 1}).status_code == 409
    assert ana.get("/api/processes/doble/versions").status_code == 404
    assert ana.post("/api/drafts/doble/publish", json={"comment": "v1", "revision": 2}).status_code == 201
    # The draft is gone with the publication: a save on the revision that was published says so.
    gone = admin.put("/api/drafts/doble", json={"xml": xml, "revision": 2})
    assert gone.status_code == 409 and "ya no existe" in gone.get_json()["detail"]
    assert ana.get("/api/drafts/doble").status_code == 404
    # Without a revision the save is unconditional (an API client that means to overwrite).
    assert admin.put("/api/drafts/doble", json={"xml": xml}).status_code == 200


def test_negative_revisions_are_refused_by_field(as_user):
    r = as_user("supervisor1").put("/api/drafts/raro", json={"xml": template_xml("raro"), "revision": -1})
    assert r.status_code == 422 and "revision" in r.get_data(as_text=True)


def test_the_draft_compares_with_a_version_published_after_it_was_opened(as_user):
    sup = as_user("supervisor1")
    assert _publish_new(sup, "comparable", template_xml("comparable")).status_code == 201  # version 1
    draft = sup.post("/api/drafts", json={"process_key": "comparable"}).get_json()
    changed = draft["xml"].replace("Revisar solicitud", "Revisar otra vez")
    assert sup.put("/api/drafts/comparable", json={"xml": changed, "revision": draft["revision"]}).status_code == 200
    diff = sup.get("/api/drafts/comparable/diff?against=1").get_json()
    assert diff["old"] == 1 and [c["id"] for c in diff["changed"]] == ["register"]
    missing = sup.get("/api/drafts/comparable/diff?against=7")
    assert missing.status_code == 404 and "no tiene versión 7" in missing.get_json()["detail"]
    assert sup.get("/api/drafts/comparable/diff?against=0").status_code == 422
