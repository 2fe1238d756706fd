"""Decisions of the DMP's patient-side transactions: HL7v3 patient management (TD0.2, TD1.1 to
TD1.4), authorizations (TD0.3, TD1.6), the patient list (TD0.4), the obsolete patient-account
operations (TD1.5) and the TD0.9 web access (who may open which DMP page).

Pure like `rules`: `patients.py` and `app.py` read the request and the store, call these, then
write and answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from banc.verdict import Finding, Severity
from banc.vihf import OID_PROFESSION, OID_SPECIALITE, Role, VihfCheck
from simulators.dmp_mock.models import Authorization, Patient
from simulators.dmp_mock.rules import REQ_MANAGE, REQ_TD09, RULES, Actor, check_right

# -- HL7v3 patient transactions ---------------------------------------------------------------

UPDATE_OPERATIONS = {"REAC": "TD1.2", "MODIF_DATA": "TD1.3b", "FERM": "TD1.4"}
"""reasonCode of a PRPA_IN201314UV02 → the transaction it is."""


def query_operation(reason: str) -> str:
    """PRPA_IN201307UV02 is TD0.2 (does a DMP exist, TEST_EXST) or TD1.3a (read the record)."""
    return "TD0.2" if reason == "TEST_EXST" else "TD1.3a"


def authorization_state(authorization: Authorization | None) -> str:
    """The AUTORISATION attention line of TD0.2: VALIDE, BLOQUE or NON_AUTORISE."""
    if authorization is None:
        return "NON_AUTORISE"
    return "VALIDE" if authorization.state == "VALIDE" else "BLOQUE"


def check_create(patient_id: tuple[str, str] | None, existing: Patient | None) -> list[Finding]:
    """TD1.1 creates a DMP for an INS that has none (acknowledgement AE otherwise)."""
    if patient_id is None:
        detail = "identifiant INS du patient absent de la demande de création"
    elif existing is not None:
        detail = f"un DMP existe déjà pour l'INS {patient_id[0]}"
    else:
        return []
    return [RULES.finding("CREATE", detail, requirements=REQ_MANAGE)]


def judge_patient_update(reason: str, patient: Patient | None) -> tuple[str | None, list[Finding]]:
    """What a TD1.2/TD1.3b/TD1.4 does to the DMP — 'terminated' (close), 'active' (reopen),
    'demographics' (update) — or the finding refusing it (acknowledgement AE)."""
    if reason not in UPDATE_OPERATIONS:
        detail = f"reasonCode {reason!r} inconnu (REAC, MODIF_DATA, FERM attendus)"
    elif patient is None:
        detail = "aucun DMP pour cet INS"
    elif reason == "FERM":
        if patient.status != "terminated":
            return "terminated", []
        detail = "le DMP est déjà fermé"
    elif reason == "REAC":
        if patient.status == "terminated":
            return "active", []
        detail = "le DMP n'est pas fermé : réactivation impossible"
    else:
        return "demographics", []
    return None, [RULES.finding("PATIENT_UPDATE", detail, requirements=REQ_MANAGE)]


# -- authorizations (TD0.3, TD1.6) and the patient list (TD0.4) -------------------------------

AUTHORIZATION_ACTIONS = {"AJOUT": "TD0.3.ajout", "SUPPRESSION": "TD0.3.suppression"}
"""setAuthorization action → the line of the rights matrix that allows it."""


def check_authorization_action(action: str) -> list[Finding]:
    if action in AUTHORIZATION_ACTIONS:
        return []
    return [RULES.finding("TD03", f"action {action!r} : AJOUT ou SUPPRESSION attendu")]


def judge_authorization(action: str, ins: str, patient: Patient | None,
                        existing: Authorization | None) -> tuple[str | None, str, list[Finding]]:
    """(change — 'add', 'remove' or None —, the response's context text, findings) of a
    setAuthorization: the DMP must exist; a professional the patient blocked cannot authorize
    himself; adding twice or removing nothing is answered DMPOk without a change."""
    if patient is None:
        return None, *_refused(f"aucun DMP pour l'INS {ins}")
    if action == "AJOUT":
        if existing and existing.state == "VALIDE":
            return None, "Autorisation déjà présente aucune action effectuée", []
        if existing and existing.state == "BLOQUE":
            return None, *_refused("professionnel bloqué par le patient : autorisation impossible")
        return "add", "Autorisation ajoutée", []
    if existing is None:
        return None, "Aucune autorisation à supprimer", []
    return "remove", "Autorisation supprimée", []


def _refused(text: str) -> tuple[str, list[Finding]]:
    return text, [RULES.finding("TD03", text, requirements=REQ_MANAGE)]


def in_patient_list(authorization: Authorization) -> bool:
    """TD0.4 lists the DMPs the professional is currently authorized on (not blocked ones)."""
    return authorization.state == "VALIDE"


def obsolete(operation: str, name: str) -> Finding:
    """TD1.5a/b/d left WSDL 2.01.04 with Mon espace santé: answered, with this note."""
    return RULES.finding("OBSOLETE", f"{operation} ({name}) n'existe plus dans le WSDL 2.01.04 "
                         "(compte patient géré par Mon espace santé)", severity=Severity.INFO)


# -- the professional as the habilitations services describe them (TD1.6) -------------------

SPECIALITY_LABELS = {"SM26": "Qualifié en Médecine générale (SM)"}
"""TRE_R38 labels as the DMP writes them (SM26: the official TD1.6 response example); other
codes fall back to the bench directory's label with the savoir-faire type suffix."""


def split_name(subject_name: str) -> tuple[str, str]:
    """(first name, last name) of the VIHF subject-id, written "Prénom NOM" ("MAX LIBRE" in
    the official tokens, answered firstName MAX / lastName LIBRE by TD1.6)."""
    first, _, last = subject_name.strip().partition(" ")
    return (first, last.strip()) if last.strip() else ("", first)


def speciality_code(roles: Iterable[Role]) -> str:
    """`G15_<profession>[/<spécialité>]` ("G15_10/SM26"), from the VIHF roles."""
    roles = list(roles)
    profession = next((r.code for r in roles if r.code_system == OID_PROFESSION), "")
    speciality = next((r.code for r in roles if r.code_system == OID_SPECIALITE), "")
    if not profession:
        return ""
    return f"G15_{profession}" + (f"/{speciality}" if speciality else "")


def speciality_label(code: str) -> str:
    """"Médecin - Qualifié en Médecine générale (SM)" for "G15_10/SM26"; '' when unknown."""
    from banc.directory import PROFESSIONS, SPECIALTIES

    profession, _, speciality = code.removeprefix("G15_").partition("/")
    label = PROFESSIONS.get(profession, ("",))[0]
    if speciality:
        known = SPECIALITY_LABELS.get(speciality) or (
            f"{SPECIALTIES[speciality]} ({speciality[:2]})" if speciality in SPECIALTIES else "")
        label = f"{label} - {known}" if label and known else label or known
    return label


# -- TD0.9 web access --------------------------------------------------------------------------


def web_refusal(message: str) -> Finding:
    return RULES.finding("TD09", message, requirements=REQ_TD09)


def check_web_token(check: VihfCheck | None, ins: str, *, unreadable: str = "") -> list[Finding]:
    """TD0.9 opens a DMP only for a signed, valid VIHF context (PDT-INF-527) naming this patient:
    the refusal ([] when the token is fit). `check` None: no token posted, or `unreadable` says
    why it could not be read."""
    if check is None:
        return [web_refusal(f"jeton VIHF illisible : {unreadable}" if unreadable else
                            "accès web contextuel sans jeton VIHF (champ « vihf » posté) : refusé")]
    if not check.accepted or check.claims is None:
        return [*check.findings, web_refusal("jeton VIHF refusé")]
    if not check.signed:
        return [*check.findings, web_refusal("jeton VIHF non signé : l'accès web exige un contexte signé")]
    if ins and check.claims.patient_ins != ins:
        return [*check.findings, web_refusal(f"jeton VIHF pour le patient {check.claims.patient_ins or '(aucun)'}, "
                                             f"page du patient {ins}")]
    return []


def check_web_professional(actor: Actor) -> list[Finding]:
    """The web access is for health professionals (a role with a profession) the matrix allows."""
    denied = check_right("TD0.9", actor)
    if denied or not actor.profession:
        return [*denied, web_refusal("accès web réservé aux professionnels de santé (rôle avec profession)")]
    return []


def check_web_patient(ins: str, patient: Patient | None) -> list[Finding]:
    """A page for an INS without a DMP: answered (404) with this warning."""
    if not ins or patient is not None:
        return []
    return [RULES.finding("TD09", f"aucun DMP pour l'INS {ins}", requirements=REQ_TD09, severity=Severity.WARNING)]
