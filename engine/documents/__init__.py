"""The documents the office issues: Jinja templates rendered to PDF/A with WeasyPrint, with a QR code to the
public verification page (`render.py`), their random verification codes (`codes.py`) and the context each
template reads (`receipt.py` for the constancia de recepción).

Nothing here touches the database: the use cases above gather the data and call these functions."""
