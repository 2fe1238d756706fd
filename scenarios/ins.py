"""Focused scenario: INS qualification with INSi, for a vendor fixing their INSi integration.

The DUI creates the usager from their identity traits and obtains the INS by INSi (CR 00), then
verifies it (unit verification), finds it again from the usager's carte Vitale; then it searches a person INSi does not know (CR 01) and a
person with a homonym (CR 02, searched without birthplace): both identities must stay
provisional, without INS. Every step is judged on the INSi exchanges the mock observed — the CR
it answered and, for CR 00, the INS — and the CR 01/02 steps also on what the DUI then says of
the identity (a manual proof when the DUI cannot be asked).

`traits_search` and `left_unqualified` are shared with the scenarios that create usagers
(demande-ssiad).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from banc.population import cnam_test_identities
from banc.scenario.judge import RULES
from banc.scenario.model import DuiActs, Expectation, Scenario
from banc.scenario.runner import RunContext
from banc.verdict import Finding
from scenarios.usagers import fresh_identity, homonyms, in_insi, usager_values

USAGER = ("ADRUN", "ZOE")
SEARCH = ("rechercherInsAvecTraitsIdentite",)
REQ_INS = ("SC.INS.27.MS1",)


def left_unqualified(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """After INSi's CR 01 or 02 the identity stays without INS and is not qualified."""
    status = str(result.get("statut", "")).lower().replace("é", "e")
    if result.get("ins") or status == "qualifiee":
        return [RULES.error("IDENTITE_NON_QUALIFIABLE", f"INSi n'a pas renvoyé d'identité unique, mais le DUI "
                            f"indique l'identité « {result.get('statut')} » avec l'INS {result.get('ins') or '(aucun)'} : "
                            "elle doit rester provisoire, sans INS")]
    return []


def traits_search(step_id: str, title: str, prefix: str, code: str, instruction: str, *,
                  requires: tuple[str, ...] = (), with_place: bool = True) -> DuiActs:
    """A traits search of `prefix`'s identity (`{prefix}_nom`…), which INSi answers with the CR
    `code`: 00 with the identity's INS; 01 or 02 and the DUI leaves the identity provisional."""
    where = {"cr": code, **({"patient_ins": f"{{{prefix}_ins}}"} if code == "00" else {})}
    return DuiActs(
        id=step_id, title=title, requirements=REQ_INS, requires=requires, action="recherche_ins",
        params={"nom": f"{{{prefix}_nom}}", "prenom": f"{{{prefix}_prenom}}", "sexe": f"{{{prefix}_sexe}}",
                "naissance": f"{{{prefix}_naissance}}", **({"lieu": f"{{{prefix}_lieu}}"} if with_place else {})},
        instruction=instruction,
        result_checks=() if code == "00" else (left_unqualified,),
        expect=(Expectation("insi", SEARCH, f"recherche INSi par traits (compte rendu {code})", where=where,
                            timeout=120),))



def _inputs(context: RunContext) -> dict:
    usager = next(i for i in cnam_test_identities() if (i.birth_name, i.first_name) == USAGER)
    twin, other_twin = homonyms(context)
    return {**usager_values(usager), **usager_values(fresh_identity(context, "inconnu"), "inconnu"),
            **usager_values(twin, "homonyme1"), **usager_values(other_twin, "homonyme2")}


SCENARIO = Scenario(
    id="ins",
    title="Qualification de l'INS par INSi",
    profile="DSR ESMS vague 1 — DUI domicile (ciblé INS)",
    description=("Création de l'usager par ses traits avec recherche INSi, vérification unitaire de son INS, "
                 "recherche par la carte Vitale, puis deux recherches qui doivent laisser l'identité provisoire : personne inconnue d'INSi "
                 "(compte rendu 01) et homonymes (compte rendu 02)."),
    inputs=_inputs,
    steps=(
        in_insi("homonyme1", "Une personne existe dans le référentiel INSi…"),
        in_insi("homonyme2", "…et son homonyme aussi (mêmes traits, autre lieu de naissance)"),
        traits_search("recherche", "Recherche de l'INS par les traits", "usager", "00",
                      "Créez l'usager {usager_prenom} {usager_nom} ({usager_sexe}, {usager_naissance}) "
                      "et obtenez son INS par INSi."),
        DuiActs(
            id="verification", title="Vérification unitaire de l'INS", requirements=("SC.INS.26.MS1",),
            requires=("recherche",), action="verifier_ins", params={"ins": "{usager_ins}"},
            instruction="Vérifiez l'INS {usager_ins} de l'usager auprès d'INSi.",
            expect=(Expectation("insi", SEARCH, "vérification INSi",
                                where={"patient_ins": "{usager_ins}"}, timeout=120),),
        ),
        DuiActs(
            id="recherche-carte", title="Recherche de l'INS par la carte Vitale", requirements=REQ_INS,
            action="recherche_ins_carte",
            params={"nir": "{usager_ins}", "naissance": "{usager_naissance}", "nom": "{usager_nom}"},
            instruction="Lisez la carte Vitale de {usager_prenom} {usager_nom} (NIR {usager_ins}, né(e) le "
                        "{usager_naissance}) et obtenez son INS par INSi.",
            expect=(Expectation("insi", ("rechercherInsAvecCarteVitale",), "recherche INSi par la carte Vitale",
                                where={"cr": "00", "patient_ins": "{usager_ins}"}, timeout=120),),
        ),
        traits_search("recherche-inconnu", "Recherche INSi sans résultat : identité laissée provisoire",
                      "inconnu", "01",
                      "Créez l'usager {inconnu_prenom} {inconnu_nom} ({inconnu_sexe}, né(e) le {inconnu_naissance}) "
                      "et cherchez son INS : INSi ne connaît personne avec ces traits, l'identité doit rester "
                      "provisoire."),
        traits_search("recherche-homonymes", "Recherche INSi à plusieurs réponses : identité laissée provisoire",
                      "homonyme1", "02",
                      "Créez l'usager {homonyme1_prenom} {homonyme1_nom} ({homonyme1_sexe}, né(e) le "
                      "{homonyme1_naissance}) sans lieu de naissance et cherchez son INS : INSi trouve deux "
                      "personnes, l'identité doit rester provisoire.", with_place=False),
    ),
)
