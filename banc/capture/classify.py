"""Which service a captured request belongs to, and how its operation is named to a person.

Two steps, each done once: `route` picks the service (and the mock path to replay into) from
what any recorder sees — the DMP's fixed path prefix, the INSi LPS context namespace, the
Annuaire's FHIR base, PSC's OpenID endpoints; the *operation* (TD2.1, TD3.1,
rechercherInsAvecTraitsIdentite…) is then the mock's own classification of the replayed
request, never guessed here. `describe` only turns that operation into French words.

MSSanté is SMTP/IMAP: mitmproxy records HTTP(S) only, so no MSSanté exchange can appear in a
capture (its mock judges live traffic; see docs/capture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from banc.capture.flows import CapturedExchange

DMP_PREFIXES = ("/si-dmp-server/", "/AccesDirect/")
INSI_MARKERS = (b"urn:siram:lps:ctxlps", b"rechercherInsAvec")
INSI_PATH = "/lps"
"""Where the INSi mock takes SOAP calls (the WSDL's address ends in /lps, as on the real service)."""
REPLAYED = ("dmp", "insi")
"""Services whose captured requests are judged offline by replay into their mock."""

NOT_REPLAYED = {
    "annuaire": "recherche dans l'Annuaire Santé : la clé d'API est masquée dans la capture, "
                "l'échange est classé mais pas rejoué",
    "psc": "échange Pro Santé Connect : il dépend d'un code ou d'un jeton propres à la plateforme "
           "réelle, classé mais pas rejoué",
}

OPERATIONS = {
    "TD0.2": "DMP — test d'existence du DMP (TD0.2)",
    "TD0.3": "DMP — mise à jour de l'autorisation d'accès (TD0.3)",
    "TD0.4": "DMP — liste des DMP autorisés (TD0.4)",
    "TD0.5": "DMP — recherche d'un patient sans INS (TD0.5)",
    "TD0.9": "DMP — accès web contextuel (TD0.9)",
    "TD1.1": "DMP — création du DMP (TD1.1)",
    "TD1.2": "DMP — réactivation du DMP (TD1.2)",
    "TD1.3a": "DMP — consultation des données administratives (TD1.3a)",
    "TD1.3b": "DMP — modification des données administratives (TD1.3b)",
    "TD1.4": "DMP — fermeture du DMP (TD1.4)",
    "TD1.5a": "DMP — création du compte internet patient (TD1.5a)",
    "TD1.5b": "DMP — ajout d'un canal OTP (TD1.5b)",
    "TD1.5d": "DMP — mise à jour du compte internet patient (TD1.5d)",
    "TD1.6": "DMP — liste des professionnels autorisés ou bloqués (TD1.6)",
    "TD2.1": "DMP — alimentation, ITI-41 (TD2.1)",
    "TD3.1": "DMP — recherche de documents, ITI-18 (TD3.1)",
    "TD3.2": "DMP — consultation d'un document, ITI-43 (TD3.2)",
    "TD3.3": "DMP — mise à jour des métadonnées (masquage, archivage, suppression), ITI-57 (TD3.3)",
    "rechercherInsAvecTraitsIdentite": "INSi — recherche ou vérification d'INS par les traits d'identité",
    "rechercherInsAvecCarteVitale": "INSi — recherche d'INS par la carte Vitale",
}


@dataclass(frozen=True)
class Route:
    service: str | None
    """`dmp`, `insi`, `annuaire`, `psc`, or None (not a service the bench knows)."""
    path: str = ""
    """Path (and query) to replay into the service's mock."""
    reason: str = ""

    @property
    def replayed(self) -> bool:
        return self.service in REPLAYED


def route(exchange: CapturedExchange) -> Route:
    path = exchange.path
    for prefix in DMP_PREFIXES:
        at = path.find(prefix)
        if at >= 0:
            return Route("dmp", path[at:], "chemin du service DMP")
    if exchange.method == "POST" and any(marker in exchange.body for marker in INSI_MARKERS):
        query = path.partition("?")[2]
        return Route("insi", INSI_PATH + (f"?{query}" if query else ""), "contexte LPS INSi dans la requête")
    bare = path.split("?")[0]
    if bare.endswith(INSI_PATH):
        return Route("insi", INSI_PATH + path[len(bare):], "adresse du service INSi")
    if "/fhir/" in bare or bare.endswith("/fhir"):
        return Route("annuaire", reason=NOT_REPLAYED["annuaire"])
    if "/protocol/openid-connect/" in bare or bare.endswith("/.well-known/openid-configuration"):
        return Route("psc", reason=NOT_REPLAYED["psc"])
    return Route(None, reason="requête d'aucun service connu du banc (ni DMP, ni INSi, ni Annuaire, ni PSC)")


def route_all(exchanges: list[CapturedExchange]) -> list[Route]:
    """Routes of a whole capture: a request no content marks (a WSDL or schema download, a
    `GET`) goes to the service its host serves, known from the capture's other requests."""
    routes = [route(e) for e in exchanges]
    hosts = {urlparse(e.url).netloc: r.service for e, r in zip(exchanges, routes, strict=True)
             if r.service is not None}
    return [r if r.service is not None or urlparse(e.url).netloc not in hosts else
            Route(hosts[urlparse(e.url).netloc], e.path, "même hôte qu'une autre requête du service")
            for e, r in zip(exchanges, routes, strict=True)]


def describe(service: str, operation: str) -> str:
    """French name of an operation for reports (the operation itself when it has none)."""
    return OPERATIONS.get(operation) or f"{service} — {operation or 'opération inconnue'}"
