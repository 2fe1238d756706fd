"""The shared directory: deterministic, valid identifiers, consistent mailboxes, named parties."""

from __future__ import annotations

import pytest

from banc.directory import (
    MAILBOX_KINDS,
    ORGANISATION_KINDS,
    PROFESSIONS,
    build_directory,
    default_directory,
    luhn_digit,
    luhn_is_valid,
    rpps_is_valid,
)


@pytest.fixture(scope="module")
def directory():
    return default_directory()


def test_luhn_matches_published_identifiers() -> None:
    # real RPPS, PSC sandbox test RPPS, real FINESS from the directory IG examples
    for number in ("10001045367", "99700427885", "580008803", "540002698"):
        assert luhn_is_valid(number), number
    assert not luhn_is_valid("10001045368")
    assert luhn_digit("7992739871") == "3"  # textbook example


def test_same_seed_same_directory_other_seed_other_people() -> None:
    first, again = build_directory(7, 200), build_directory(7, 200)
    assert first.professionals == again.professionals
    assert first.organisations == again.organisations
    other = build_directory(8, 200)
    assert [p.family for p in other.professionals] != [p.family for p in first.professionals]


def test_identifiers_are_well_formed_and_unique(directory) -> None:
    rpps = [p.rpps for p in directory.professionals]
    assert len(rpps) == len(set(rpps)) >= 600
    assert all(rpps_is_valid(r) and r.startswith("999") for r in rpps)
    assert all(p.national_id == "8" + p.rpps for p in directory.professionals)
    finess = [o.finess for o in directory.organisations if o.finess]
    assert len(finess) == len(set(finess))
    assert all(len(f) == 9 and luhn_is_valid(f) for f in finess)
    assert all(o.kind in ORGANISATION_KINDS for o in directory.organisations)
    assert all(p.profession in PROFESSIONS for p in directory.professionals)


def test_every_activity_points_to_a_known_organisation(directory) -> None:
    for prof in directory.professionals:
        assert prof.activities
        for activity in prof.activities:
            assert directory.organisation(activity.organisation) is not None
            assert activity.mode in ("L", "S")


def test_mailboxes_are_unique_and_owned(directory) -> None:
    boxes = directory.mailboxes()
    addresses = [b.address for b in boxes]
    assert len(addresses) == len(set(addresses))
    assert {b.kind for b in boxes} <= set(MAILBOX_KINDS)
    assert {"PER", "ORG", "APP", "CAB"} <= {b.kind for b in boxes}
    for box in boxes:
        assert box.address == box.address.lower() and box.domain.endswith(".mssante.fr")
        owner = directory.owner(box)
        assert owner is not None, box
    assert all(directory.mailbox(a) is not None for a in addresses[:50])
    assert directory.mailbox("personne@inconnu.mssante.fr") is None


def test_named_parties_are_stable_and_linked(directory) -> None:
    gp = directory.gp
    assert (gp.family, gp.given, gp.profession, gp.specialty) == ("VIDAL", "Hélène", "10", "SM54")
    assert gp.mailbox is not None and gp.mailbox.address == "helene.vidal@medecin.mssante.fr"
    assert directory.professional(gp.national_id) is gp
    # independent of the seed: scenarios name them
    assert build_directory(1, 10).gp == gp
    ssiad = directory.ssiad
    assert ssiad.kind == "SSIAD" and ssiad.finess_category == "354"
    app = directory.ssiad_app_mailbox
    assert app.kind == "APP" and app.certificate_cn == "BAL-APPLICATIVE-SSIAD"
    assert directory.organisation(ssiad.finess) is ssiad
    assert directory.organisation(ssiad.national_id) is ssiad
    service = directory.hospital_service
    assert directory.organisation(service.part_of).kind == "CH"
    assert directory.person("medecin_hospitalier") in directory.members(service.id)
    with pytest.raises(KeyError):
        directory.person("ssiad")


def test_scales_to_a_large_directory() -> None:
    big = build_directory(3, 20_000)
    assert len(big.professionals) == 20_005
    assert len(big.mailboxes("PER")) > 15_000


def test_identical_across_processes_whatever_the_hash_seed() -> None:
    """Other mocks build the directory in their own process: it must not depend on set order."""
    import os
    import subprocess
    import sys

    code = ("import hashlib; from banc.directory import build_directory; d = build_directory(5, 300);"
            " print(hashlib.sha256(repr((d.professionals, d.organisations)).encode()).hexdigest())")
    digests = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1
