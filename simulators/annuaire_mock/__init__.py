"""Annuaire Santé mock: the FHIR R4 directory API (read/search, API key, paging, includes) and
the `PS_LibreAcces` open-data extraction, both generated from `banc.directory`.

`launch(context)` starts it (TLS with the test PKI unless `context.insecure`); scenarios use the
returned `RunningAnnuaire` (see docs/annuaire-psc-mocks.md).
"""

from __future__ import annotations

from banc.control import CONTROL_PREFIX, with_control
from banc.directory import Directory, default_directory
from banc.mocks import MockContext
from banc.recording import JournalMiddleware
from simulators.annuaire_mock import seed
from simulators.annuaire_mock.app import (
    BASE_PATH,
    DEFAULT_API_KEY,
    EXTRACTION_PATH,
    AnnuaireConfig,
    build_app,
)
from simulators.annuaire_mock.control import AnnuaireControl
from simulators.annuaire_mock.models import AnnuaireStore

NAME = "annuaire"


def open_store(context: MockContext, directory: Directory, *, validate: bool = True) -> AnnuaireStore:
    """The SQLite store under the data directory, (re)built only when the data set changed."""
    store = AnnuaireStore(context.data_dir / "annuaire" / "annuaire.sqlite")
    signature = f"seed={directory.seed};practitioners={len(directory.professionals)};v3"
    if store.meta("signature") != signature:
        store.load(seed.resources(directory), signature=signature, validate=validate)
    return store


class RunningAnnuaire:
    """A started Annuaire mock, with the handles scenarios need."""

    name = NAME

    def __init__(self, context: MockContext, directory: Directory | None = None) -> None:
        self.directory = directory or default_directory(context.seed)
        self.store = open_store(context, self.directory)
        self.config = AnnuaireConfig(self.directory, self.store)
        self.control = AnnuaireControl(self.config)
        app = JournalMiddleware(with_control(build_app(self.config), self.control,
                                             context.admin_token), context.journal, NAME)
        self.server = context.serve(app, name=NAME, port_name=NAME, client_cert="optional")
        self.config.public_url = self.server.url
        self.endpoints = {
            "annuaire.fhir": self.server.url + BASE_PATH,
            "annuaire.extraction": self.server.url + EXTRACTION_PATH,
            "annuaire.controle": self.server.url + CONTROL_PREFIX,
        }

    @property
    def base_url(self) -> str:
        return self.endpoints["annuaire.fhir"]

    @property
    def api_keys(self) -> set[str]:
        """Accepted ESANTE-API-KEY values (add or discard keys to test a revoked key)."""
        return self.config.api_keys

    def stop(self) -> None:
        self.server.stop()


def launch(context: MockContext) -> RunningAnnuaire:
    return RunningAnnuaire(context)


__all__ = ["DEFAULT_API_KEY", "NAME", "RunningAnnuaire", "launch", "open_store"]
