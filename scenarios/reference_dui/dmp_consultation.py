"""DMP consultation by the reference DUI: what a SSIAD does when a new usager arrives.

TD0.2 reads the usager's DMP and the professional's authorization, TD0.3 declares it (the SSIAD
now cares for the usager), TD3.1 (ITI-18) lists the documents, TD3.2 (ITI-43) retrieves the
most recent one; TD0.9 opens the DMP's web page in context, the signed VIHF posted with the
same client certificate (SC.DMP.03.MS1). What the DUI reports back is a summary; the bench judges
the DMP's journal.
"""

from __future__ import annotations

from banc.xds import codes as xc
from banc.xds.ebrim import entry_from_element
from scenarios.reference_dui.base import ActionImpossible
from scenarios.reference_dui.dmp import DmpActions, refusal_of
from simulators.dmp_mock.client import response_root, retrieved


class DmpConsultationActions(DmpActions):
    def consulter_dmp(self, ins: str) -> dict:
        """TD0.2, TD0.3 (unless the fault skips it), TD3.1 then TD3.2 of the most recent document."""
        self.usager(ins)
        client = self._dmp()
        try:
            client.td02(ins)
            if "dmp-sans-autorisation" not in self.faults:
                client.set_authorization(ins)
            found = client.find_documents(ins)
            refusal = refusal_of(found)
            if refusal:
                raise ActionImpossible(f"consultation du DMP refusée : {refusal}")
            entries = sorted((entry_from_element(e) for e in response_root(found).iter(f"{{{xc.NS_RIM}}}ExtrinsicObject")),
                             key=lambda entry: entry.creation_time, reverse=True)
            listed = [entry.unique_id for entry in entries if entry.unique_id]
            if not listed:
                return {"documents": 0, "recupere": None}
            documents = retrieved(client.retrieve(ins, listed[:1]))
        finally:
            client.close()
        return {"documents": len(listed), "recupere": listed[0], "taille": len(documents.get(listed[0], b""))}

    def ouvrir_dmp_web(self, ins: str) -> dict:
        """TD0.9: the DMP's page of the usager, opened in context (the fault: the DUI has none)."""
        self.usager(ins)
        if "sans-td09" in self.faults:
            raise ActionImpossible("accès web au DMP (TD0.9) non proposé par ce DUI")
        client = self._dmp()
        try:
            page = client.web_access(ins)
        finally:
            client.close()
        if page.status_code != 200:
            raise ActionImpossible(f"page web du DMP refusée (HTTP {page.status_code})")
        return {"url": str(page.url), "statut_http": page.status_code}

