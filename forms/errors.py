"""What the forms package raises; the engine translates these into its own typed errors at one gate."""
from __future__ import annotations


class FormError(Exception):
    """Base of the forms package's errors; `form_key` names the form concerned."""

    def __init__(self, message: str, form_key: str):
        super().__init__(message)
        self.message = message
        self.form_key = form_key


class FormProblems(FormError):
    """A submission the form refuses; `problems` lists each field's {field, message, keyword}."""

    def __init__(self, form_key: str, problems: list[dict]):
        super().__init__(f"form '{form_key}' refuses the submission ({len(problems)} problem(s))", form_key)
        self.problems = problems


class UnknownForm(FormError):
    """No usable form by that key: no such file, or not a valid JSON Schema."""
