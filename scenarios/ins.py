"""Focused scenario: INS qualification with INSi, for a vendor fixing their INSi integration.

The DUI creates the usager from their identity traits and obtains the INS by INSi, then verifies
it (unit verification). Both steps are judged on the INSi exchanges the mock observed: the INS
the service answered must be the usager's.
"""

from __future__ import annotations

from banc.population import cnam_test_identities
from banc.scenario.model import DuiActs, Expectation, Scenario
from banc.scenario.runner import RunContext

USAGER = ("ADRUN", "ZOE")
SEARCH = ("rechercherInsAvecTraitsIdentite",)


def _inputs(context: RunContext) -> dict:
    usager = next(i for i in cnam_test_identities() if (i.birth_name, i.first_name) == USAGER)
    return {"usager_nom": usager.birth_name, "usager_prenom": usager.first_name,
            "usager_sexe": usager.sex, "usager_naissance": usager.birth_date.isoformat(),
            "usager_lieu": usager.birth_place or "", "usager_ins": usager.ins or ""}


SCENARIO = Scenario(
    id="ins",
    title="Qualification de l'INS par INSi",
    profile="DSR ESMS vague 1 — DUI domicile (ciblé INS)",
    description="Création de l'usager par ses traits avec recherche INSi, puis vérification unitaire de son INS.",
    inputs=_inputs,
    steps=(
        DuiActs(
            id="recherche", title="Recherche de l'INS par les traits", requirements=("SC.INS.27.MS1",),
            action="recherche_ins",
            params={"nom": "{usager_nom}", "prenom": "{usager_prenom}", "sexe": "{usager_sexe}",
                    "naissance": "{usager_naissance}", "lieu": "{usager_lieu}"},
            instruction="Créez l'usager {usager_prenom} {usager_nom} ({usager_sexe}, {usager_naissance}) "
                        "et obtenez son INS par INSi.",
            expect=(Expectation("insi", SEARCH, "recherche INSi par traits",
                                where={"patient_ins": "{usager_ins}"}, timeout=120),),
        ),
        DuiActs(
            id="verification", title="Vérification unitaire de l'INS", requirements=("SC.INS.26.MS1",),
            requires=("recherche",), action="verifier_ins", params={"ins": "{usager_ins}"},
            instruction="Vérifiez l'INS {usager_ins} de l'usager auprès d'INSi.",
            expect=(Expectation("insi", SEARCH, "vérification INSi",
                                where={"patient_ins": "{usager_ins}"}, timeout=120),),
        ),
    ),
)
