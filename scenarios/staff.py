"""The professionals of every scenario: the SSIAD's coordinating nurse and the usager's GP.

The nurse of the bench directory is who the DUI logs in as (Pro Santé Connect, e-CPS) and whose
mailbox receives what correspondents send; the GP is whom the DUI writes to, found in the
Annuaire Santé. Their template values (`{infirmiere}`, `{infirmiere_nom}`, `{infirmiere_bal}`,
`{medecin_nom}`, `{medecin_prenom}`, `{medecin_bal}`), the login and the GP's lookup are the same
in every scenario.
"""

from __future__ import annotations

from banc.directory import default_directory
from banc.scenario.model import DuiActs, Expectation


def nurse_values() -> dict[str, str]:
    nurse = default_directory().person("infirmiere_coordinatrice")
    return {"infirmiere": nurse.national_id, "infirmiere_nom": f"{nurse.given} {nurse.family}",
            "infirmiere_bal": nurse.mailbox.address if nurse.mailbox else ""}


def psc_login(title: str = "Connexion Pro Santé Connect de l'infirmière coordinatrice") -> DuiActs:
    """The nurse logs in to the DUI with PSC; judged on the code-for-token exchange PSC saw."""
    return DuiActs(
        id="connexion-psc", title=title, requirements=(), action="connexion_psc",
        params={"professionnel": "{infirmiere}"},
        instruction="Connectez-vous au DUI avec Pro Santé Connect en tant que {infirmiere_nom} "
                    "(identifiant e-CPS {infirmiere}).",
        expect=(Expectation("psc", ("token",), "échange du code contre un jeton PSC", timeout=120),))


def gp_values() -> dict[str, str]:
    gp = default_directory().gp
    return {"medecin_nom": gp.family, "medecin_prenom": gp.given,
            "medecin_bal": gp.mailbox.address if gp.mailbox else ""}


def gp_lookup() -> DuiActs:
    """The DUI finds the GP's MSSanté address in the Annuaire Santé (SC.ANN.01.MS1)."""
    return DuiActs(
        id="annuaire-medecin", title="Adresse MSSanté du médecin traitant (Annuaire Santé)",
        requirements=("SC.ANN.01.MS1",), action="recherche_annuaire",
        params={"nom": "{medecin_nom}", "prenom": "{medecin_prenom}"},
        instruction="Recherchez dans l'Annuaire Santé le Dr {medecin_prenom} {medecin_nom} et retenez son adresse "
                    "MSSanté.",
        expect=(Expectation("annuaire", ("search Practitioner",), "recherche d'un professionnel", timeout=120),))
