"""Deterministic seed data: the public CNAM test identities as the captures show them, plus
generated identities, and the software identifiers (IDAM) the mock accepts by default."""

from __future__ import annotations

from pathlib import Path

from banc.population import cnam_test_identities, generated_identities, load_identities
from simulators.insi_mock.models import IdentityStore, InsiRecord, record_from_identity

DEFAULT_GENERATED = 100
DEFAULT_SOFTWARE = {
    "BANC-SEGUR-DUI": "DUI de démonstration du Banc Ségur",
    "NumAutorisation": "IDAM des messages exemples ANS (WS_INS2)",
}

PRESENTATION: dict[str, dict] = {
    # How the CNAM answers present some people (from the public captures).
    "1090763220834": {  # ECETINSI: TIQ without Prenom, dated first history entry (TEST_2.04)
        "tiq_omit": {"Prenom"},
        "history_dates": {"209076322083439": ("2019-03-01", "2019-02-28")},
    },
    "2070585756270": {"tiq_omit": {"ListePrenom"}},  # PATB-QUATRE (ANS example WS_INS2)
}


def cnam_records() -> list[InsiRecord]:
    records = []
    for identity in cnam_test_identities():
        options = PRESENTATION.get(identity.matricule or "", {})
        records.append(
            record_from_identity(
                identity,
                tiq_omit=frozenset(options.get("tiq_omit", ())),
                history_dates=options.get("history_dates"),
            )
        )
    return records


def seed_store(
    store: IdentityStore, *, generated: int = DEFAULT_GENERATED, seed: int = 20240101,
    fixture: Path | None = None,
) -> int:
    """Fill an empty store; returns the number of identities it holds afterwards."""
    records = cnam_records()
    records += [record_from_identity(i) for i in generated_identities(generated, seed)]
    if fixture is not None:
        records += [record_from_identity(i) for i in load_identities(fixture)]
    store.put_many(records)
    for idam, name in DEFAULT_SOFTWARE.items():
        store.register_software(idam, name)
    return store.count()
