"""The reference DUI's dashboard (SC.TBB.01.MS1): its DMP feeds and MSSanté sends over a period,
by FINESS and by RPPS, counted from the activity it logged as each one was accepted."""

from __future__ import annotations

from collections import Counter

from scenarios.reference_dui.base import DuiBase

NATURES = ("dmp", "mssante")


def counts(rows: list[dict]) -> dict:
    """Total, per FINESS and per RPPS of activity rows of one nature."""
    return {"total": len(rows), "par_finess": dict(Counter(r["finess"] for r in rows)),
            "par_rpps": dict(Counter(r["rpps"] for r in rows))}


class DashboardActions(DuiBase):
    def tableau_de_bord(self, debut: str = "", fin: str = "") -> dict:
        """Counts of DMP feeds (`dmp`) and MSSanté sends (`mssante`) whose UTC date is within
        [debut, fin] (open when empty)."""
        rows = self.store.activity(debut, fin)
        if "tableau-de-bord-faux" in self.faults:
            rows = self._one_per_document_set(rows)
        return {"debut": debut, "fin": fin,
                **{nature: counts([r for r in rows if r["nature"] == nature]) for nature in NATURES}}

    def _one_per_document_set(self, rows: list[dict]) -> list[dict]:
        """The mistake: counting documents (one per setId and nature) instead of feeds and
        sends, so a new version or a second send of a document goes uncounted."""
        seen: set[tuple[str, str]] = set()
        kept = []
        for row in rows:
            stored = self.store.find_document(row["document"])
            key = (row["nature"], stored.lot if stored else row["document"])
            if key not in seen:
                seen.add(key)
                kept.append(row)
        return kept
