"""Small curated vocabularies of home-care content, so generated documents read plausibly.

Codes are public terminologies (CIM-10 for problems, ATC for drug classes); labels are French.
Generators draw from these lists with their seeded `random.Random`, never from Faker, so a
document's clinical content is stable across Faker versions.
"""

from __future__ import annotations

PROBLEMS: tuple[tuple[str, str], ...] = (
    ("I10", "Hypertension artérielle essentielle"),
    ("E11.9", "Diabète de type 2 sans complication"),
    ("I50.9", "Insuffisance cardiaque, sans précision"),
    ("J44.9", "Bronchopneumopathie chronique obstructive"),
    ("F03", "Démence, sans précision"),
    ("G20", "Maladie de Parkinson"),
    ("M81.9", "Ostéoporose, sans précision"),
    ("N18.3", "Maladie rénale chronique, stade 3"),
    ("I48.9", "Fibrillation auriculaire, sans précision"),
    ("S72.0", "Fracture du col du fémur"),
    ("L89.1", "Escarre de stade 2"),
    ("I63.9", "Infarctus cérébral, sans précision"),
)
"""(CIM-10 code, label)."""

DRUGS: tuple[tuple[str, str, str], ...] = (
    ("C09AA05", "RAMIPRIL 5 mg, comprimé", "1 comprimé le matin"),
    (
        "A10BA02",
        "METFORMINE 850 mg, comprimé pelliculé",
        "1 comprimé matin et soir au cours du repas",
    ),
    ("B01AF01", "RIVAROXABAN 15 mg, comprimé pelliculé", "1 comprimé le soir"),
    ("C03CA01", "FUROSEMIDE 40 mg, comprimé sécable", "1 comprimé le matin"),
    ("N02BE01", "PARACETAMOL 1 g, comprimé", "1 comprimé jusqu'à 3 fois par jour si douleur"),
    ("N06DA02", "DONEPEZIL 10 mg, comprimé orodispersible", "1 comprimé le soir au coucher"),
    ("N04BA02", "LEVODOPA/CARBIDOPA 100 mg/10 mg, comprimé", "1 comprimé 3 fois par jour"),
    ("A12AX", "CALCIUM/VITAMINE D3 500 mg/400 UI, comprimé à croquer", "1 comprimé par jour"),
    ("C10AA05", "ATORVASTATINE 20 mg, comprimé pelliculé", "1 comprimé le soir"),
    ("H03AA01", "LEVOTHYROXINE 75 µg, comprimé", "1 comprimé le matin à jeun"),
)
"""(ATC code, product label, posology)."""

ALLERGIES: tuple[str, ...] = (
    "Allergie à la pénicilline (urticaire)",
    "Intolérance à la codéine (nausées)",
    "Allergie à l'iode",
    "Aucune allergie connue",
)

CARE_ACTS: tuple[str, ...] = (
    "Aide à la toilette complète au lit",
    "Aide à la toilette partielle au lavabo",
    "Aide à l'habillage et au déshabillage",
    "Surveillance de la prise des traitements",
    "Préparation du pilulier hebdomadaire (infirmier)",
    "Réfection de pansement d'escarre talonnière",
    "Prévention des escarres : changements de position, effleurages",
    "Surveillance de la glycémie capillaire",
    "Pose et retrait des bas de contention",
    "Aide aux transferts lit-fauteuil",
    "Surveillance du poids et des œdèmes des membres inférieurs",
)

OBJECTIVES: tuple[str, ...] = (
    "Maintenir l'autonomie pour les transferts et la marche avec déambulateur",
    "Prévenir les chutes au domicile (aménagement, téléassistance)",
    "Assurer une hygiène corporelle satisfaisante dans le respect des habitudes de vie",
    "Sécuriser la prise des médicaments",
    "Prévenir l'apparition d'escarres",
    "Soutenir l'aidant principal et prévenir son épuisement",
    "Repérer précocement une décompensation cardiaque (poids, essoufflement)",
    "Favoriser le maintien des liens sociaux (accueil de jour deux fois par semaine)",
)

LIFE_CONTEXT: tuple[str, ...] = (
    "Vit seul(e) en appartement au 2e étage avec ascenseur ; fille habitant à proximité.",
    "Vit avec son conjoint, aidant principal, en maison de plain-pied.",
    "Vit seul(e) en maison avec étage ; chambre installée au rez-de-chaussée.",
    "Vit chez sa fille depuis l'hospitalisation ; passage d'un SAAD deux fois par jour.",
)

GIR_LEVELS: tuple[tuple[str, str], ...] = (
    ("2", "GIR 2"),
    ("3", "GIR 3"),
    ("4", "GIR 4"),
)

DISCHARGE_REASONS: tuple[str, ...] = (
    "chute à domicile avec fracture du col du fémur opérée par prothèse intermédiaire",
    "décompensation cardiaque globale sur fibrillation auriculaire rapide",
    "pneumopathie d'inhalation chez un patient parkinsonien",
    "déshydratation et confusion dans un contexte de canicule",
)
