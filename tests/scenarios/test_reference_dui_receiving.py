"""The reference DUI's integration of what it receives, message by message (no server: the
message bytes the simulated hospital would send, the MDN the DUI would submit captured): worklist
with CDA metadata, read receipts with the MSSanté integration codes, replacements and deletions
from the sender only, refusals to attach without a confirmed identity."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from banc.directory import default_directory
from banc.documents import factory
from banc.mail.reports import read_mdn
from banc.mail.senders import named_senders
from banc.population import population
from scenarios.reference_dui.actions import ReferenceDui
from scenarios.reference_dui.base import ActionImpossible
from scenarios.reference_dui.receiving import DELETED
from scenarios.reference_dui.store import ReferenceStore

BOX = "ide@ssiad.mssante.fr"


class Dui(ReferenceDui):
    """The reference DUI with its SMTP submission captured."""

    def submit(self, sender: str, recipients: list[str], raw: bytes) -> None:
        self.submitted.append((sender, recipients, raw))


def make_dui(tmp_path: Path, faults: frozenset[str] = frozenset()) -> Dui:
    dui = Dui(sheet=None, store=ReferenceStore(tmp_path / "dui.sqlite"), faults=faults)  # type: ignore[arg-type]
    dui.submitted = []  # type: ignore[attr-defined]
    return dui


@pytest.fixture(scope="module")
def hospital():
    return named_senders(default_directory())["hopital"]


@pytest.fixture(scope="module")
def identity():
    return next(i for i in population(30) if i.ins and i.carries_ins)


def test_a_letter_goes_to_the_worklist_with_its_metadata_and_is_acknowledged(tmp_path, hospital, identity) -> None:
    dui = make_dui(tmp_path)
    letter = hospital.document("LDL-SES", identity)
    raw = hospital.message([BOX], letter, notify=True).build()
    intake = dui._take_in(raw, BOX)
    assert intake.documents == [letter.document_id] and intake.error is None
    (entry,) = dui.liste_de_travail()["documents"]
    assert entry["document"] == letter.document_id and entry["usager"] is None and not entry["lu"]
    assert entry["usager_nom"] == identity.birth_name and entry["titre"] and entry["date"][:8].isdigit()
    assert entry["auteur"] and entry["organisation"] == hospital.organisation.name
    ((sender, to, mdn),) = dui.submitted
    assert (sender, to) == (BOX, [hospital.address])
    report = read_mdn(mdn)
    assert report is not None and report.error_code is None and "processed" in report.disposition
    assert dui._take_in(raw, BOX).documents == [] and len(dui.liste_de_travail()["documents"]) == 1


def test_no_read_receipt_with_the_fault(tmp_path, hospital, identity) -> None:
    dui = make_dui(tmp_path, frozenset({"sans-accuse-lecture"}))
    dui._take_in(hospital.message([BOX], hospital.document("LDL-SES", identity), notify=True).build(), BOX)
    assert dui.submitted == []


@pytest.mark.parametrize(("variant", "code"), [("metadonnees-autre-patient", 904), ("sans-metadata", 906)])
def test_a_message_that_cannot_be_integrated_gets_an_error_receipt(tmp_path, hospital, identity, variant, code) -> None:
    dui = make_dui(tmp_path)
    raw = hospital.message([BOX], hospital.document("LDL-SES", identity), notify=True, broken=(variant,)).build()
    intake = dui._take_in(raw, BOX)
    assert intake.error is not None and intake.error[0] == code and intake.documents == []
    assert read_mdn(dui.submitted[0][2]).error_code == code
    assert dui.liste_de_travail()["documents"] == []


def test_replacement_and_deletion_apply_only_from_the_sender(tmp_path, hospital, identity) -> None:
    dui = make_dui(tmp_path)
    letter = hospital.document("LDL-SES", identity)
    dui._take_in(hospital.message([BOX], letter).build(), BOX)
    corrected = factory.replacement(letter)
    gp = named_senders(default_directory())["medecin"]
    refused = dui._take_in(gp.message([BOX], corrected).build(), BOX)
    assert refused.error is not None and refused.error[0] == 901
    dui._take_in(hospital.message([BOX], corrected).build(), BOX)
    assert dui.store.document(letter.document_id).etat == "remplace"
    assert dui.store.document(corrected.document_id).remplace == letter.document_id
    assert [h["evenement"] for h in dui.store.history(letter.document_id)] == ["recu", "remplace"]
    notice = dataclasses.replace(hospital.message([BOX], corrected),
                                 xdm=_deleted_archive(corrected))
    dui._take_in(notice.build(), BOX)
    assert dui.store.document(corrected.document_id).etat == "supprime"


def test_with_the_fault_an_incoming_replacement_does_not_supersede(tmp_path, hospital, identity) -> None:
    dui = make_dui(tmp_path, frozenset({"ignore-remplacement-entrant"}))
    letter = hospital.document("LDL-SES", identity)
    dui._take_in(hospital.message([BOX], letter).build(), BOX)
    dui._take_in(hospital.message([BOX], factory.replacement(letter)).build(), BOX)
    assert dui.store.document(letter.document_id).etat == "actif"


def test_attaching_needs_the_documents_own_ins(tmp_path, hospital, identity) -> None:
    dui = make_dui(tmp_path)
    letter = hospital.document("LDL-SES", identity)
    dui._take_in(hospital.message([BOX], letter).build(), BOX)
    other = next(i for i in population(30) if i.ins and i.carries_ins and i.ins != identity.ins)
    with pytest.raises(ActionImpossible, match="rattachement refusé"):
        dui.rattacher_document(letter.document_id, other.ins)
    with pytest.raises(ActionImpossible, match="inconnu"):
        dui.rattacher_document("1.2.3^absent", identity.ins)


def _deleted_archive(document) -> bytes:
    from banc.xdm import XdmDocument, build_xdm

    submission = factory.submission(document, uri="DOC0001.XML")
    submission = dataclasses.replace(
        submission, documents=[dataclasses.replace(d, status=DELETED) for d in submission.documents])
    return build_xdm(submission, [XdmDocument("DOC0001.XML", document.xml)])


def test_a_store_of_another_schema_version_is_set_aside_not_half_read(tmp_path):
    import sqlite3

    from scenarios.reference_dui.store import SCHEMA_VERSION, ReferenceStore

    old = tmp_path / "dui-reference.sqlite"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE documents (id TEXT PRIMARY KEY)")  # an earlier schema, version 0
    store = ReferenceStore(old)
    assert store.worklist() == []
    assert (tmp_path / "dui-reference.v0.sqlite").exists()
    with sqlite3.connect(old) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    ReferenceStore(old).worklist()  # same version: reopened as it is
    assert not (tmp_path / "dui-reference.v2.sqlite").exists()
