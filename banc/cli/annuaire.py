"""`banc annuaire …`: a reference client of the Annuaire Santé FHIR API and the bench directory.

- `banc annuaire chercher --rpps N | --nom NOM [--prenom P] | --bal FRAGMENT`: search
  practitioners and print their MSSanté addresses (the mock by default, or any API with its key);
- `banc annuaire extraction [--sortie FICHIER]`: download the `PS_LibreAcces` extraction;
- `banc annuaire personnes`: the named professionals and structures of the bench directory.
"""

from __future__ import annotations

import argparse
import ssl
from pathlib import Path

import httpx

from banc.cli import UsageError
from banc.cli.vocabulary import option
from banc.directory import Organisation, Professional, default_directory
from banc.mocks import DEFAULT_PORTS
from banc.pki import TestPki

DEFAULT_URL = f"https://localhost:{DEFAULT_PORTS['annuaire']}/fhir/v2"
DEFAULT_KEY = "banc-segur-annuaire"
EXTRACTION = "/annuaire-sante-webservices/V300/services/extraction/PS_LibreAcces"
MSSANTE_TYPE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("annuaire", help="Annuaire Santé : recherche, extraction")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    search = actions.add_parser("chercher", help="chercher des professionnels et leurs BAL MSSanté")
    who = search.add_mutually_exclusive_group(required=True)
    who.add_argument("--rpps", help="numéro RPPS (11 chiffres) ou identifiant national (8+RPPS)")
    who.add_argument("--nom", help="nom d'exercice (début du nom)")
    who.add_argument("--bal", help="fragment d'adresse MSSanté (mailbox-mss:contains)")
    search.add_argument("--prenom", help="prénom d'exercice (avec --nom)")
    _connection(search)
    search.set_defaults(handler=_search)
    extract = actions.add_parser("extraction", help="télécharger PS_LibreAcces (fichier zip)")
    option(extract, "--sortie", metavar="CHEMIN", help="fichier ou dossier de destination (défaut : dossier courant)")
    _connection(extract)
    extract.set_defaults(handler=_extraction)
    people = actions.add_parser("personnes", help="professionnels et structures nommés du banc")
    people.set_defaults(handler=_people)


def _connection(parser: argparse.ArgumentParser) -> None:
    option(parser, "--url", default=DEFAULT_URL, help=f"URL de base FHIR (défaut : {DEFAULT_URL})")
    parser.add_argument("--cle", default=DEFAULT_KEY, help="clé ESANTE-API-KEY")
    parser.add_argument("--ca", metavar="FICHIER", help="AC de confiance (défaut : AC de la PKI de test du banc)")


def _tls(args: argparse.Namespace) -> ssl.SSLContext:
    ca = Path(args.ca) if args.ca else TestPki.ensure().ca_cert
    return ssl.create_default_context(cafile=str(ca))


def _get(args: argparse.Namespace, url: str, params: dict | None = None) -> httpx.Response:
    try:
        response = httpx.get(url, params=params, verify=_tls(args), timeout=30,
                             headers={"ESANTE-API-KEY": args.cle, "Accept": "application/fhir+json"})
    except httpx.HTTPError as exc:
        raise UsageError(f"annuaire injoignable à {url} ({exc}) : lancez `banc demarrer` ou "
                         "indiquez --url") from exc
    if response.status_code != 200:
        try:
            issues = response.json().get("issue", [])
            detail = "; ".join(i.get("diagnostics", "") for i in issues)
        except ValueError:
            detail = response.text[:200]
        raise UsageError(f"l'annuaire a refusé la requête (HTTP {response.status_code}) : {detail}")
    return response


def mailboxes(resource: dict) -> list[str]:
    """MSSanté addresses of a Practitioner/PractitionerRole/Organization (FR Core email type)."""
    found = []
    for telecom in resource.get("telecom", ()):
        codes = [e.get("valueCoding", {}).get("code") for e in telecom.get("extension", ())
                 if e.get("url") == MSSANTE_TYPE]
        if "MSSANTE" in codes:
            found.append(telecom["value"])
    return found


def _search(args: argparse.Namespace) -> int:
    if args.rpps:
        rpps = args.rpps[1:] if len(args.rpps) == 12 else args.rpps
        params = {"identifier": rpps}
    elif args.nom:
        params = {"family": args.nom, **({"given": args.prenom} if args.prenom else {})}
    else:
        params = {"mailbox-mss:contains": args.bal}
    bundle = _get(args, args.url.rstrip("/") + "/Practitioner", params).json()
    entries = bundle.get("entry", [])
    print(f"{bundle.get('total', len(entries))} professionnel(s) trouvé(s)"
          + (f", {len(entries)} affiché(s)" if len(entries) < bundle.get("total", 0) else ""))
    for entry in entries:
        resource = entry["resource"]
        name = resource.get("name", [{}])[0]
        label = " ".join([*name.get("given", []), name.get("family", "")]).strip()
        boxes = ", ".join(mailboxes(resource)) or "aucune BAL MSSanté publiée"
        print(f"  RPPS {resource['id']}  {label:<32} {boxes}")
    return 0


def _extraction(args: argparse.Namespace) -> int:
    root = args.url.split("/fhir/")[0]
    response = _get(args, root + EXTRACTION)
    disposition = response.headers.get("content-disposition", "")
    name = disposition.split('filename="')[-1].rstrip('"') if "filename=" in disposition \
        else "PS_LibreAcces.zip"
    target = Path(args.sortie) if args.sortie else Path.cwd()
    if target.is_dir():
        target = target / name
    target.write_bytes(response.content)
    print(f"extraction enregistrée : {target} ({len(response.content)} octets)")
    return 0


def _people(args: argparse.Namespace) -> int:
    directory = default_directory()
    for role, party in directory.named.items():
        if isinstance(party, Professional):
            box = party.mailbox.address if party.mailbox else "-"
            print(f"{role:<26} {party.display_name:<24} RPPS {party.rpps}  {box}")
        elif isinstance(party, Organisation):
            boxes = ", ".join(f"{b.address} ({b.kind})" for b in party.mailboxes)
            ident = f"FINESS {party.finess}" if party.finess else f"SIRET {party.siret}"
            print(f"{role:<26} {party.name:<40} {ident}  {boxes}")
    return 0
