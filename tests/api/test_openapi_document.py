"""The generated OpenAPI document and its viewer."""
from __future__ import annotations


def test_document_lists_every_operation_with_a_summary_and_problem_errors(anonymous):
    doc = anonymous.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    operations = [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()
                  if method != "parameters"]
    assert len(operations) >= 35
    for path, method, op in operations:
        assert op.get("summary"), f"{method} {path} has no docstring"
        assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}
    assert "application/problem+json" in doc["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert set(doc["components"]["securitySchemes"]) == {"bearerAuth", "cookieAuth"}
    assert doc["paths"]["/api/session"]["post"]["security"] == []


def test_interactive_docs_load_swagger_ui_from_our_own_static_files(anonymous):
    html = anonymous.get("/api/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "/api/openapi.json" in html


def test_api_answers_are_not_cached_or_sniffed(as_user):
    response = as_user("oficial1").get("/api/cases")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_swagger_ui_files_are_installed_by_the_setup(anonymous):
    # make install copies them from the npm package swagger-ui-dist (package-lock.json).
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = anonymous.get(f"/static/vendor/swagger-ui/{name}")
        assert response.status_code == 200 and len(response.data) > 1000
        response.close()
