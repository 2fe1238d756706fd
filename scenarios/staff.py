"""The SSIAD's own professional in every scenario: its coordinating nurse, and her login.

The nurse of the bench directory is who the DUI logs in as (Pro Santé Connect, e-CPS) and whose
mailbox receives what correspondents send; her template values (`{infirmiere}`,
`{infirmiere_nom}`, `{infirmiere_bal}`) and the login step are the same in every scenario.
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
