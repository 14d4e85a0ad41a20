"""Flask-Babel: Spanish (Guatemala) by default, English on request; msgids are the Spanish texts."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_babel import Babel, get_locale

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
