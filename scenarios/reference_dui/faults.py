"""Fault profiles of the reference DUI: the mistakes real DUIs make, one switch each.

A run of the reference DUI with a fault (`banc jouer … --pilote reference --defaut NOM`) must
turn red exactly the requirements in `breaks` — the tests assert it scenario by scenario, and
`docs/reference-dui.md` shows the table generated from here (`python -m
scenarios.reference_dui.faults`, checked by a test).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference-dui.md"
TABLE_START, TABLE_END = "<!-- table des défauts : début -->", "<!-- table des défauts : fin -->"


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    breaks: tuple[str, ...]
    """Requirements this fault turns red over all the project's scenarios (all others stay
    passed), as `python -m scenarios.reference_dui.measure` measures them. A step fails only
    the requirements its errors cite: missing X-MSS headers fail SC.MSS.17/18, not the
    documents judged on the same message; without the XDM archive, though, the documents
    cannot be judged at all and their requirements fail with it."""
    says: str = ""
    """What the failure must say (case-insensitive): the bench turns red for the right reason."""


FAULTS: dict[str, Fault] = {fault.name: fault for fault in (
    Fault("insi-mauvaise-authentification", "appelle INSi avec un certificat d'organisation qui n'est ni INSI-AUTO ni INSI-MANU",
          ("SC.INS.26.MS1", "SC.INS.27.MS1", "SC.MSS.25.MS1"), "INSI-AUTO ou INSI-MANU"),
    Fault("vihf-non-signe", "verse au DMP avec un jeton VIHF non signé en mode indirect",
          ("SC.DMP.01.MS1", "SC.DMP.04.MS1", "SC.DOC.01.MS1", "SC.DOC.02.MS1"), "sign"),
    Fault("oid-ins-faux", "désigne l'usager au DMP avec l'OID de l'INS de production au lieu de celui du DMP de test",
          ("SC.DMP.01.MS1", "SC.DMP.04.MS1", "SC.DOC.01.MS1", "SC.DOC.02.MS1"), "OID"),
    Fault("sans-destinataire", "ne mentionne pas les destinataires dans le document (informationRecipient)",
          ("SC.DOC.04.MS1",), "informationRecipient"),
    Fault("sans-datamatrix", "produit le PDF/A du document N1 sans le datamatrix INS",
          ("SC.DOC.03.MS1",), "datamatrix"),
    Fault("sans-xdm", "envoie le document par MSSanté sans l'archive IHE XDM",
          ("SC.DOC.03.MS1", "SC.DOC.04.MS1", "SC.DOC.06.MS1", "SC.DOC.07.MS1", "SC.DOC.08.MS1", "SC.MSS.17.MS1", "SC.MSS.18.MS1"), "XDM"),
    # -- scénarios accompagnement-quotidien et dmp (versement, corrections, tableau de bord) --
    Fault("sans-rplc", "corrige un document en le versant comme un nouveau document, sans association RPLC "
          "ni mention « annule et remplace »",
          ("SC.DMP.02.MS1", "SC.MSS.20.MS1"), "sans association RPLC"),
    Fault("sans-confidentialite", "verse au DMP sans code de confidentialité ni de masquage dans les métadonnées XDS",
          ("SC.DMP.01.MS1", "SC.DMP.04.MS1", "SC.DOC.01.MS1", "SC.DOC.02.MS1"), "confidentialityCode"),
    Fault("metadonnees-contradictoires", "verse au DMP des métadonnées XDS qui contredisent l'en-tête CDA "
          "(date de création)",
          ("SC.DMP.01.MS1", "SC.DMP.04.MS1", "SC.DOC.01.MS1", "SC.DOC.02.MS1"), "creationTime"),
    Fault("vihf-expire", "verse au DMP avec un jeton VIHF expiré",
          ("SC.DMP.01.MS1", "SC.DMP.04.MS1", "SC.DOC.01.MS1", "SC.DOC.02.MS1"), "expir"),
    Fault("vihf-autre-patient", "verse au DMP avec le jeton VIHF d'un autre usager",
          ("SC.DMP.01.MS1", "SC.DMP.04.MS1", "SC.DOC.01.MS1", "SC.DOC.02.MS1"), "patient_ins : attendu"),
    Fault("tableau-de-bord-faux", "compte au tableau de bord les documents au lieu des alimentations et envois "
          "(une nouvelle version n'est pas comptée)",
          ("SC.TBB.01.MS1",), "les simulateurs en ont reçu"),
    # -- scénario retour-domicile (réception et envoi MSSanté, documents) --------------------
    Fault("sans-en-tetes-xmss", "envoie ses messages MSSanté sans les en-têtes X-MSS-CODECDA, X-MSS-INS et X-MSS-NIL",
          ("SC.MSS.17.MS1", "SC.MSS.18.MS1"), "X-MSS-CODECDA absent"),
    Fault("sans-accuse-lecture", "n'envoie pas l'accusé de lecture (MDN) que l'expéditeur demande",
          ("SC.MSS.26.MS1",), "accusé de lecture (MDN)"),
    Fault("envoi-malgre-refus", "envoie à l'usager ou aux professionnels malgré le refus d'envoi enregistré",
          ("SC.MSS.15.MS1", "SC.MSS.16.MS1"), "ne devait pas le faire"),
    Fault("ignore-remplacement-entrant", "intègre la nouvelle version d'un document entrant sans remplacer la "
          "précédente (les deux restent actives)",
          ("SC.MSS.24.MS1",), "non appliqué"),
    Fault("rattachement-sans-verification", "rattache un document entrant à l'usager sans vérifier par INSi "
          "l'identité qu'il porte",
          ("SC.INS.26.MS1", "SC.MSS.25.MS1"), "dont INSi ne confirme pas l'identité"),
    Fault("sans-feuille-de-style", "envoie le DLU et la FLUDT sans la feuille de style de l'établissement "
          "(non auto-présentables)",
          ("SC.DOC.08.MS1",), "non auto-présentable"),
    Fault("sans-mentions-rgpd", "produit le PDF/A du document N1 sans les mentions d'information RGPD en bas de page",
          ("SC.DOC.06.MS1",), "mention d'information RGPD"),
    Fault("sans-demande-accuse", "envoie ses documents sans jamais demander d'accusé de lecture "
          "(pas d'en-tête Disposition-Notification-To)",
          ("SC.MSS.17.MS1",), "Disposition-Notification-To"),
    # -- scénario demande-ssiad (DMP consulté, correspondants) --------------------------------
    Fault("dmp-sans-autorisation", "consulte le DMP de l'usager sans s'y être déclaré dans ses autorisations (TD0.3)",
          ("SC.DMP.03.MS1",), "autorisation (TD0.3)"),
    Fault("sans-td09", "n'offre pas l'accès web contextuel au DMP (TD0.9)",
          ("SC.DMP.03.MS1",), "accès web au DMP (TD0.9) non proposé"),
    Fault("moins-de-10-correspondants", "ne garde que 9 correspondants dans le dossier de l'usager, sans prévenir",
          ("SC.MSS.14.MS1",), "10 attendus au moins"),
    # -- scénario annuaire -------------------------------------------------------------------
    Fault("sans-extraction-annuaire", "ne télécharge pas l'extraction PS_LibreAcces du jour : son annuaire local "
          "reste celui d'un import précédent",
          ("SC.ANN.01.MS1",), "téléchargement de l'extraction"),
)}


class UnknownFault(ValueError):
    pass


def check(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise UnknownFault(f"défaut(s) inconnu(s) : {', '.join(unknown)} (connus : {', '.join(FAULTS)})")
    return frozenset(names)


def table() -> str:
    lines = ["| défaut | ce que fait le DUI | exigences en échec |", "|---|---|---|"]
    lines += [f"| `{f.name}` | {f.description} | {', '.join(f.breaks)} |" for f in FAULTS.values()]
    return "\n".join(lines)


def write_table(path: Path = DOC) -> Path:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    path.write_text(text[:start] + "\n" + table() + "\n" + text[end:], encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_table())
