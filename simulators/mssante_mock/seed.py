"""Deterministic initial state: the directory's mailboxes (`banc.directory`) and the patient
mailboxes of the qualified identities of `banc.population`, which the simulated recipients also
know as patients (so a correct document is integrated, an unknown INS gets MDN 902)."""

from __future__ import annotations

from collections.abc import Iterator

from banc.directory import Directory, Organisation, build_directory
from banc.identity import Identity, patient_mail_address
from banc.population import population
from simulators.mssante_mock.models import KnownPatient, MailStore


def _rows(directory: Directory) -> Iterator[tuple[str, str, str, tuple[str, ...], str, bool]]:
    """(address, kind, owner, authorized national ids, certificate CN, simulated)."""
    ssiad = directory.ssiad
    dui_people = {p.national_id for p in directory.members(ssiad.id)}
    for box in directory.mailboxes():
        owner = directory.owner(box)
        if isinstance(owner, Organisation):
            people = tuple(p.national_id for p in directory.members(owner.id))
            ours = owner.id == ssiad.id
        else:
            national = owner.national_id if owner is not None else box.owner
            people = (national,)
            ours = national in dui_people
        yield box.address, box.kind, box.owner, people, box.certificate_cn, not ours


def known_patient(identity: Identity) -> KnownPatient | None:
    if identity.ins is None:
        return None
    return KnownPatient(
        ins=identity.ins, oid=identity.oid, family=identity.birth_name,
        given=identity.first_name, birth_date=identity.birth_date.strftime("%Y%m%d"),
        sex=identity.sex,
    )


def seed(store: MailStore, *, seed: int, patients: int = 0) -> Directory:
    """Fill an empty store; returns the directory it was built from."""
    directory = build_directory(seed)
    store.add_mailboxes(_rows(directory))
    rows = []
    for identity in population(patients, seed):
        known = known_patient(identity)
        if known is None or not identity.carries_ins:
            continue
        store.add_patient(known)
        rows.append((patient_mail_address(identity), "PAT", identity.ins or "", (), "", True))
    store.add_mailboxes(rows)
    return directory
