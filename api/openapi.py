"""The smorest Api: problem+json error responses, security schemes and path converters in the document."""
from __future__ import annotations

import http
from datetime import date

from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser, abort
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

from api.errors import PROBLEM_MIMETYPE
from api.schemas.common import ProblemSchema

# Ids fit a signed 32-bit integer in the document so clients (and fuzzers) never send one the
# databases cannot compare; larger ids simply do not route.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """A positive database id in a path."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


class NameConverter(BaseConverter):
    """A key or username in a path: no slashes or control characters, at most 100 characters."""

    regex = r"[^/\x00-\x1f\x7f]{1,100}"


class IsoDateConverter(BaseConverter):
    """A calendar day in a path (YYYY-MM-DD); an impossible date does not route (404)."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError() from None

    def to_url(self, value):
        return value.isoformat() if isinstance(value, date) else str(value)


SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "A personal token from POST /api/tokens"},
    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "expediente_session",
                   "description": "Browser session from POST /api/session; changes also need X-CSRF-Token"},
}


class ProblemApi(Api):
    """Documents every error response as RFC 9457 problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def make_api(app) -> ProblemApi:
    """Create the Api on `app` with our converters and security schemes."""
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["name"] = NameConverter
    app.url_map.converters["isodate"] = IsoDateConverter
    api = ProblemApi()
    api.register_converter(IsoDateConverter, lambda _c: {"type": "string", "format": "date"})
    api.register_converter(IdConverter, lambda _c: {"type": "integer", "format": "int32", "minimum": 1,
                                                    "maximum": MAX_ID})
    api.register_converter(NameConverter, lambda _c: {"type": "string", "minLength": 1, "maxLength": 100,
                                                      "pattern": r"^[^/\u0000-\u001f\u007f]+$"})
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": SECURITY_SCHEMES},
                                   "security": [{"bearerAuth": []}, {"cookieAuth": []}]})
    return api


class ApiParser(FlaskParser):
    """webargs' parser, made total: JSON that parses but cannot be taken (too deep, numbers too long) is a 422,
    and a multipart body's text fields join its files."""

    def load_json(self, req, schema):
        try:
            return super().load_json(req, schema)
        except RecursionError:  # json.loads gives up on very deep nesting with this, not a ValueError
            abort(422, messages={"json": ["JSON nested too deeply."]})
        except ValueError:  # an integer of more than 4,300 digits: Python refuses to convert it
            abort(422, messages={"json": ["JSON number too long."]})

    def load_files(self, req, schema):
        # One schema can then describe a whole form (files and their comment) as one requestBody.
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class ApiBlueprint(Blueprint):
    """The blueprint every resource uses: smorest's, with our argument parser."""

    ARGUMENTS_PARSER = ApiParser()
