"""DMP calls of the reference DUI: the DMP client of the bench with a VIHF the DUI signs itself."""

from __future__ import annotations

from urllib.parse import urlparse

from banc.vihf import build_vihf
from banc.xds import codes as xc
from scenarios.reference_dui.base import DuiBase
from scenarios.reference_dui.documents import DocumentActions
from simulators.dmp_mock.client import Author, DmpClient


class DmpActions(DocumentActions, DuiBase):
    def _dmp(self) -> DmpClient:
        nurse, ssiad = self.nurse, self.directory.ssiad
        author = Author(rpps=nurse.national_id, family=nurse.family.upper(), given=nurse.given.upper(),
                        structure_id=ssiad.national_id, structure_name=ssiad.name)
        services = urlparse(self.sheet.url("dmp"))  # …/si-dmp-server/v2/services: the client adds it
        return DmpClient(f"{services.scheme}://{services.netloc}", self.sheet.pki, author=author)

    def alimentation_dmp(self, ins: str, document: str | None = None, masque_ps: bool = False,
                         invisible_patient: bool = False) -> dict:
        """TD0.2, TD0.3, ITI-41 of the usager's document (with the masking / visibility asked),
        then ITI-18 finds it."""
        visibility = tuple(code for wanted, code in ((masque_ps, xc.MASQUE_PS),
                                                     (invisible_patient, xc.INVISIBLE_PATIENT)) if wanted)
        made = self._document(ins, document)
        client = self._dmp()
        assertion = build_vihf(client.claims(ins)) if "vihf-non-signe" in self.faults else None
        try:
            client.td02(ins)
            client.set_authorization(ins)
            fed = client.provide(made.xml, ins, visibility=visibility, assertion=assertion)
            found = client.find_documents(ins)
        finally:
            client.close()
        self.store.update_document(made.document_id, dmp_entree=fed.entry_uuid)
        self.store.trace(made.document_id, "verse_dmp", fed.entry_uuid)
        self.store.record_activity("dmp", finess=self.directory.ssiad.national_id, rpps=self.nurse.national_id,
                                   document=made.document_id)
        return {"document": made.document_id, "entree": fed.entry_uuid,
                "retrouve": fed.entry_uuid.encode() in found.content}
