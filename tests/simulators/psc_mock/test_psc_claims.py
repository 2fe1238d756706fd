"""Userinfo and discovery shapes compared with the real PSC samples (reference/psc/)."""

from __future__ import annotations

import json

from banc.directory import default_directory
from simulators.psc_mock import wire


def test_userinfo_has_every_field_of_the_sandbox_sample(reference) -> None:
    sample = json.loads((reference / "psc" / "userinfo-bas-card-2023.json").read_text("utf-8"))
    directory = default_directory()
    ours = wire.userinfo_claims(directory, directory.person("infirmiere_liberale"))
    assert set(sample) - {"authMode"} <= set(ours)
    sample_exercice = sample["SubjectRefPro"]["exercices"][0]
    exercice = ours["SubjectRefPro"]["exercices"][0]
    assert set(sample_exercice) == set(exercice)
    assert set(sample_exercice["activities"][0]) == set(exercice["activities"][0])
    assert len(exercice["activities"]) == 2
    assert all(isinstance(v, str) for a in exercice["activities"] for v in a.values())
    assert ours["SubjectNameID"] == ours["preferred_username"] == ours["otherIds"][0]["identifiant"]


def test_discovery_names_the_same_endpoints_as_the_real_realm(reference) -> None:
    sample = json.loads((reference / "psc" / "discovery-esante-wallet-mock.json").read_text("utf-8"))
    ours = wire.discovery("https://localhost:9104" + wire.REALM_PATH)
    for key in ("token_endpoint", "userinfo_endpoint", "introspection_endpoint",
                "end_session_endpoint", "jwks_uri"):
        suffix = sample[key].split("/esante-wallet", 1)[1]
        assert ours[key].endswith("/esante-wallet" + suffix), key
    assert "scope_all" in ours["scopes_supported"]
