"""Document factory: realistic CDA documents for any identity (see docs/documents.md)."""
