"""Tour of the simulated services: the smoke scenario, one exchange with each national service.

The SSIAD's coordinating nurse logs in with Pro Santé Connect, finds the GP's MSSanté address in
the Annuaire Santé, obtains the usager's INS from INSi, feeds a document to the DMP and sends it
to the GP by MSSanté. Each step is an action of the DUI under test (any driver: an operator, the
DUI's automation endpoint, or the reference DUI) judged from what the simulators observed.
"""

from __future__ import annotations

from banc.population import cnam_test_identities
from banc.scenario.model import DuiActs, Expectation, Scenario
from banc.scenario.runner import RunContext
from scenarios.staff import gp_lookup, gp_values, nurse_values, psc_login

USAGER = ("ADRTROIS", "DOMINIQUE")


def _inputs(context: RunContext) -> dict:
    usager = next(i for i in cnam_test_identities() if (i.birth_name, i.first_name) == USAGER)
    return {
        **nurse_values(),
        **gp_values(),
        "usager_nom": usager.birth_name, "usager_prenom": usager.first_name,
        "usager_sexe": usager.sex, "usager_naissance": usager.birth_date.isoformat(),
        "usager_lieu": usager.birth_place or "", "usager_ins": usager.ins or "",
    }


SCENARIO = Scenario(
    id="tour",
    title="Tour des services simulés",
    profile="DSR ESMS vague 1 — DUI domicile (fumée)",
    description=(
        "Un échange avec chaque service national : connexion Pro Santé Connect, adresse MSSanté du "
        "médecin traitant dans l'Annuaire Santé, INS de l'usager par INSi, alimentation du DMP, "
        "envoi MSSanté au médecin traitant."),
    inputs=_inputs,
    steps=(
        psc_login("Connexion Pro Santé Connect (code + PKCE)"),
        gp_lookup(),
        DuiActs(
            id="insi-traits", title="INS de l'usager par ses traits (INSi)",
            requirements=("SC.INS.26.MS1", "SC.INS.27.MS1"),
            action="recherche_ins",
            params={"nom": "{usager_nom}", "prenom": "{usager_prenom}", "sexe": "{usager_sexe}",
                    "naissance": "{usager_naissance}", "lieu": "{usager_lieu}"},
            instruction="Créez l'usager {usager_prenom} {usager_nom} ({usager_sexe}, né(e) le "
                        "{usager_naissance}, lieu {usager_lieu}) et obtenez son INS par INSi.",
            expect=(Expectation("insi", ("rechercherInsAvecTraitsIdentite",), "recherche INSi par traits",
                                where={"patient_ins": "{usager_ins}"}, timeout=120),),
        ),
        DuiActs(
            id="dmp-alimentation", title="Alimentation et consultation du DMP",
            requirements=("SC.DMP.04.MS1",), requires=("insi-traits",),
            action="alimentation_dmp", params={"ins": "{usager_ins}"},
            instruction="Versez au DMP de l'usager (INS {usager_ins}) un document le concernant, puis "
                        "consultez la liste de ses documents.",
            expect=(
                Expectation("dmp", ("TD2.1",), "versement ITI-41 au DMP",
                            where={"patient_ins": "{usager_ins}"}, timeout=180),
                Expectation("dmp", ("TD3.1",), "recherche ITI-18 dans le DMP",
                            where={"patient_ins": "{usager_ins}"}, timeout=180),
            ),
        ),
        DuiActs(
            id="mssante-envoi", title="Envoi MSSanté au médecin traitant",
            requirements=("SC.MSS.17.MS1",), requires=("insi-traits",),
            action="envoi_mssante", params={"destinataire": "{medecin_bal}"},
            instruction="Envoyez ce document par MSSanté au Dr {medecin_nom} ({medecin_bal}).",
            expect=(Expectation("mssante", ("smtp.submission",), "message MSSanté soumis par le DUI",
                                timeout=180),),
        ),
    ),
)
