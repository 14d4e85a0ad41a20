"""The documents the office issues: Jinja templates rendered to PDF/A with WeasyPrint, with a QR code to the
public verification page (`render.py`), their random verification codes (`codes.py`), the kinds and their number
patterns (`kinds.py`), the context every template reads (`context.py`; `receipt.py` for the constancia de
recepción), the PAdES signature (`signing.py`), the rules a document-issuing task must follow (`rules.py`) and
the compiled case file (`casefile.py`).

Nothing here touches the database: the use cases above gather the data and call these functions."""
