"""Report tables and their exports (CSV, XLSX, PDF) and server-side SVG charts: no Flask, no storage."""
