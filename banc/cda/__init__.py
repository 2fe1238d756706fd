"""CDA conformance engine: ANS package, Schematron compilation and cache, validation, rendering."""
