"""Pro Santé Connect wire formats: discovery document, token and userinfo claims built from the
shared directory, and the French HTML pages (login, logout, errors). No decisions here.

Claim names and shapes follow the PSC samples (reference/psc/): `SubjectNameID` = national id
("8" + RPPS), `SubjectRefPro` = the professional's directory record (exercices → activities,
every value a string, absent = ""), `SubjectRole` = "<profession>^1.2.250.1.213.1.1.5.5",
`Secteur_Activite` = "<SAxx>^1.2.250.1.71.4.2.4", `otherIds`, `authMode`, `acr` = eidas1.
"""

from __future__ import annotations

import hashlib
import uuid
from html import escape

from banc.directory import Directory, Professional

REALM_PATH = "/auth/realms/esante-wallet"
OIDC = "/protocol/openid-connect"
FEDERATION = uuid.UUID("550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd")
"""Keycloak identity-provider id in `sub` = 'f:<uuid>:<national id>' (value seen in sandbox)."""
ACR = "eidas1"
SCOPES = ("openid", "scope_all", "profile", "identity", "rpps", "email", "eidas1")


def endpoints(issuer: str) -> dict[str, str]:
    return {
        "authorization_endpoint": issuer + OIDC + "/auth",
        "token_endpoint": issuer + OIDC + "/token",
        "userinfo_endpoint": issuer + OIDC + "/userinfo",
        "introspection_endpoint": issuer + OIDC + "/token/introspect",
        "end_session_endpoint": issuer + OIDC + "/logout",
        "jwks_uri": issuer + OIDC + "/certs",
    }


def discovery(issuer: str) -> dict:
    """The OpenID configuration, served at both the standard and the wallet paths."""
    return {
        "issuer": issuer,
        **endpoints(issuer),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": ["RS256", "none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                  "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(SCOPES),
        "acr_values_supported": [ACR],
        "claims_supported": ["sub", "iss", "aud", "auth_time", "acr", "given_name",
                             "family_name", "preferred_username", "SubjectNameID",
                             "SubjectRefPro", "SubjectRole", "SubjectOrganization",
                             "SubjectOrganizationID", "Secteur_Activite", "otherIds"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "frontchannel_logout_supported": False,
    }


def subject(national_id: str) -> str:
    return f"f:{FEDERATION}:{national_id}"


def identity_claims(prof: Professional) -> dict:
    """Claims PSC puts in the access and ID tokens besides the protocol ones."""
    return {
        "preferred_username": prof.national_id,
        "SubjectNameID": prof.national_id,
        "given_name": prof.given,
        "family_name": prof.family,
        "authMode": "CARD",
        "otherIds": [{"identifiant": prof.national_id, "origine": "RPPS", "qualite": 1}],
    }


def _activity(directory: Directory, organisation_id: str, mode: str) -> dict:
    org = directory.organisation(organisation_id)
    assert org is not None, organisation_id  # the directory guarantees it (tested)
    a = org.address
    return {
        "codeModeExercice": mode,
        "codeSecteurDactivite": org.sector,
        "codeSectionPharmacien": "",
        "codeRole": "",
        "codeGenreActivite": "GENR01",
        "numeroSiretSite": org.siret,
        "numeroSirenSite": org.siret[:9],
        "numeroFinessSite": org.finess,
        "numeroFinessetablissementJuridique": org.finess_ej,
        "identifiantTechniqueDeLaStructure": org.technical_id,
        "raisonSocialeSite": org.name,
        "enseigneCommercialeSite": "",
        "complementDestinataire": "",
        "complementPointGeographique": "",
        "numeroVoie": a.street_number,
        "indiceRepetitionVoie": "",
        "codeTypeDeVoie": a.street_type,
        "libelleVoie": a.street_name,
        "mentionDistribution": "",
        "bureauCedex": f"{a.postal_code} {a.city.upper()}",
        "codePostal": a.postal_code,
        "codeCommune": a.insee_code,
        "codePays": "99000",
        "telephone": org.phone,
        "telephone2": "",
        "telecopie": "",
        "adresseEMail": "",
        "codeDepartement": a.department,
        "ancienIdentifiantDeLaStructure": "",
        "autoriteDenregistrement": "",
    }


def userinfo_claims(directory: Directory, prof: Professional) -> dict:
    """The userinfo document of a logged-in professional (JSON, or the payload of the JWT)."""
    activities = [_activity(directory, a.organisation, a.mode) for a in prof.activities]
    first = directory.organisation(prof.activities[0].organisation)
    return {
        "sub": subject(prof.national_id),
        **identity_claims(prof),
        "email_verified": False,
        "codeCivilite": prof.civility,
        "SubjectRefPro": {
            "codeCivilite": prof.civility,
            "exercices": [{
                "codeProfession": prof.profession,
                "codeCategorieProfessionnelle": prof.category,
                "codeCiviliteDexercice": prof.practice_civility,
                "nomDexercice": prof.family,
                "prenomDexercice": prof.given,
                "codeTypeSavoirFaire": "S" if prof.specialty else "",
                "codeSavoirFaire": prof.specialty,
                "activities": activities,
            }],
        },
        "SubjectRole": [f"{prof.profession}^1.2.250.1.213.1.1.5.5"],
        "Secteur_Activite": f"{first.sector}^1.2.250.1.71.4.2.4" if first else "",
        "SubjectOrganization": first.name if first else "",
        "SubjectOrganizationID": first.technical_id if first else "",
        "PSI_Locale": "1.2.250.1.213.1.3.1.1",
        "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
        "Acces_Regulation_Medicale": "FAUX",
        "Mode_Acces_Raison": "",
        "UITVersion": "1.0",
    }


def at_hash(access_token: str) -> str:
    """OIDC at_hash for RS256: left half of SHA-256, base64url without padding."""
    import base64

    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


# -- HTML (French, for a trainer in a browser) -----------------------------------------------
_STYLE = ("body{font-family:sans-serif;max-width:46rem;margin:2rem auto;color:#1b1b35}"
          "h1{color:#000091}label{display:block;margin:.6rem 0 .2rem}"
          "button{background:#000091;color:#fff;border:0;padding:.6rem 1.2rem;margin-top:1rem}"
          "select,input{width:100%;padding:.4rem}.note{color:#555;font-size:.9rem}")


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{escape(title)}'
            f"</title><style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}"
            "</body></html>")


def login_page(action: str, request_id: str, choices: list[Professional], client_id: str,
               error: str = "") -> str:
    options = "".join(
        f'<option value="{escape(p.national_id)}">{escape(p.display_name)} — '
        f"{escape(p.profession_label)} ({escape(p.national_id)})</option>" for p in choices)
    warning = f'<p role="alert"><strong>{escape(error)}</strong></p>' if error else ""
    return page("Pro Santé Connect (simulé)", f"""
<p>L'application <strong>{escape(client_id)}</strong> demande votre authentification.</p>
{warning}
<form method="post" action="{escape(action)}">
<input type="hidden" name="request" value="{escape(request_id)}">
<label for="professionnel">Professionnel (annuaire du banc)</label>
<select id="professionnel" name="professionnel"><option value="">—</option>{options}</select>
<label for="identifiant">ou identifiant national (8 + RPPS)</label>
<input id="identifiant" name="identifiant" inputmode="numeric" autocomplete="off">
<button type="submit" name="action" value="login">Se connecter avec e-CPS</button>
<button type="submit" name="action" value="cancel">Annuler</button>
</form>
<p class="note">Simulateur du banc Ségur : aucune carte ni application e-CPS n'est vérifiée.</p>""")


def error_page(message: str) -> str:
    return page("Pro Santé Connect (simulé) — requête refusée",
                f'<p role="alert">{escape(message)}</p>')


def logout_page() -> str:
    return page("Pro Santé Connect (simulé)", "<p>Vous êtes déconnecté de Pro Santé Connect.</p>")
