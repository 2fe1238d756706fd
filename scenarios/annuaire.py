"""Focused scenario: the Annuaire Santé, for a vendor fixing their directory integration.

SC.ANN.01.MS1 asks the DUI to use the national directory. A new professional is published in the
Annuaire for this run only (their RPPS and name drawn from the run id): they are in the day's
open-data extraction (PS_LibreAcces) and in the FHIR API, nowhere else. The DUI downloads the
extraction (judged on the Annuaire's journal), then proposes that professional for their name —
which only a DUI that imported today's file can do — and finds their MSSanté address with the
FHIR API (not in the extraction).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from faker import Faker

from banc.directory import ascii_slug, default_directory, make_rpps
from banc.identity import normalise_name
from banc.scenario.judge import RULES
from banc.scenario.model import BenchActs, DuiActs, Expectation, Scenario
from banc.scenario.runner import RunContext
from banc.verdict import Finding

REQ = ("SC.ANN.01.MS1",)
RUN_RPPS_FROM = 5_000_000
"""Sequences of the run's professionals start here, far from the directory's own (< 10⁴)."""


def _inputs(context: RunContext) -> dict:
    digest = int(hashlib.sha256(f"{context.run.id}:annuaire".encode()).hexdigest()[:12], 16)
    faker = Faker("fr_FR")
    faker.seed_instance(digest)
    directory = default_directory()
    taken = {(p.family.upper(), p.given.upper()) for p in directory.professionals}
    while True:  # a name of nobody in the directory: a search by name finds this professional only
        family, given = normalise_name(faker.last_name()), faker.first_name_female()
        if (family.upper(), given.upper()) not in taken:
            break
    rpps = make_rpps(RUN_RPPS_FROM + digest % 4_000_000)
    practice = directory.gp.activities[0].organisation
    return {"pro_rpps": rpps, "pro_identifiant": "8" + rpps, "pro_nom": family, "pro_prenom": given,
            "pro_organisation": practice,
            "pro_bal": f"{ascii_slug(f'{given} {family}')}.{rpps[-4:]}@medecin.mssante.fr"}


def _proposed(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """The DUI proposes the professional published today, under their national identifier."""
    wanted = str(context.values.get("pro_identifiant", ""))
    shown = result.get("professionnels")
    ids = {str(p.get("identifiant", "")) for p in shown if isinstance(p, Mapping)} if isinstance(shown, list) else set()
    if wanted in ids:
        return []
    return [RULES.error("ANNUAIRE_LOCAL", f"le DUI ne propose pas {context.values.get('pro_prenom')} "
                        f"{context.values.get('pro_nom')} ({wanted}), publié(e) dans l'extraction du jour : "
                        f"son annuaire local n'est pas à jour (proposés : {', '.join(sorted(ids)) or 'aucun'})")]


def _address(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """The MSSanté address the DUI retained is the one the Annuaire publishes."""
    wanted = str(context.values.get("pro_bal", "")).lower()
    if str(result.get("bal", "")).lower() == wanted:
        return []
    return [RULES.error("ANNUAIRE_BAL", f"adresse MSSanté retenue « {result.get('bal')} » au lieu de {wanted} "
                        "(publiée par l'Annuaire Santé)")]


SCENARIO = Scenario(
    id="annuaire",
    title="Annuaire Santé : extraction du jour et recherche",
    profile="DSR ESMS vague 1 — DUI domicile (ciblé Annuaire)",
    description=("Un professionnel publié le jour même dans l'Annuaire Santé : le DUI importe l'extraction "
                 "PS_LibreAcces, le propose pour son nom, et trouve son adresse MSSanté par l'API FHIR."),
    inputs=_inputs,
    steps=(
        BenchActs("nouveau-professionnel", "Un professionnel est publié aujourd'hui dans l'Annuaire Santé", (),
                  service="annuaire", action="ajouter_professionnel",
                  params={"rpps": "{pro_rpps}", "nom": "{pro_nom}", "prenom": "{pro_prenom}", "sexe": "F",
                          "profession": "10", "bal": "{pro_bal}", "organisation": "{pro_organisation}"}),
        DuiActs(
            id="import-extraction", title="Import de l'extraction PS_LibreAcces du jour", requirements=REQ,
            requires=("nouveau-professionnel",), action="importer_annuaire",
            instruction="Mettez à jour l'annuaire local du DUI depuis l'extraction en données ouvertes du jour "
                        "(PS_LibreAcces).",
            expect=(Expectation("annuaire", ("extraction PS_LibreAcces",), "téléchargement de l'extraction",
                                timeout=120),)),
        DuiActs(
            id="professionnel-propose", title="Le professionnel publié aujourd'hui est proposé par le DUI",
            requirements=REQ, requires=("import-extraction",), action="professionnels_proposes",
            params={"nom": "{pro_nom}"},
            instruction="Saisissez le nom {pro_nom} comme destinataire : le DUI doit proposer {pro_prenom} "
                        "{pro_nom} (RPPS {pro_rpps}).",
            result_checks=(_proposed,)),
        DuiActs(
            id="adresse-mssante", title="Son adresse MSSanté trouvée par l'API FHIR de l'Annuaire", requirements=REQ,
            requires=("nouveau-professionnel",), action="recherche_annuaire",
            params={"nom": "{pro_nom}", "prenom": "{pro_prenom}"},
            instruction="Recherchez {pro_prenom} {pro_nom} dans l'Annuaire Santé et retenez son adresse MSSanté.",
            expect=(Expectation("annuaire", ("search Practitioner",), "recherche du professionnel (FHIR)",
                                timeout=120),),
            result_checks=(_address,)),
    ),
)
