"""Flask-Babel: Spanish (Guatemala) by default, English on request; msgids are the Spanish texts."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, has_app_context, request, session
from flask_babel import Babel, get_locale, gettext

from engine.messages import Message

LOCALES = ("es_GT", "en")
DEFAULT_LOCALE = "es_GT"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """The user's choice (stored in the session), else the browser's preference, else Spanish."""
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(["es", "en"], default="es") == "en" and "en" or DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())


def localize(value):
    """An engine Message (engine.messages) in the request's language, its parameters too; anything else as it is.

    Messages leave the engine as Spanish text remembering their template: the catalogue gives the English one.
    """
    if not isinstance(value, Message) or not has_app_context() or "babel" not in current_app.extensions:
        return value
    params = {name: localize(param) for name, param in value.params.items()}
    try:
        return gettext(value.msgid, **params)  # without params gettext does no %-formatting, like Message
    except (KeyError, ValueError, TypeError):  # a catalogue entry whose placeholders do not match its msgid
        return str(value)
