"""`banc insi …`: a reference INSi client and the bench's identities.

- `banc insi chercher NOM PRENOM SEXE DATE [--lieu CODE]`: send a traits search (SOAP 1.2,
  ContexteLPS/BAM, WS-Addressing) with a client certificate and print the answer — against
  the mock or any service speaking the CNAM WSDL;
- `banc insi cas`: the public test cases and the answer each must give;
- `banc insi identites [--generees N] [--json] [--sortie FICHIER]`: list or export the population.

`build_traits_request` / `build_vitale_request` are also used by tests and `bench/insi.py`;
`bench_identity` lets the other clients (`banc dmp vihf`, `banc mss envoyer`) use what INSi
answers for a person (its OID above all).
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from banc.cli import UsageError
from banc.cli.vocabulary import option
from banc.identity import Identity
from banc.mocks import DEFAULT_PORTS
from banc.population import (
    DEFAULT_SEED,
    cnam_test_cases,
    dump_identities,
    identity_to_dict,
    population,
)
from banc.soap import SOAP12_NS, WSA_NS, parse_envelope, parse_fault

RECSANS_NS = "http://www.cnamts.fr/INSiRecSans"
RECVIT_NS = "http://www.cnamts.fr/INSiRecVit"
RESULTAT_NS = "http://www.cnamts.fr/INSiResultat"
CTXLPS_NS = "urn:siram:lps:ctxlps"
CTXBAM_NS = "urn:siram:bam:ctxbam"
ACTION_TRAITS = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
ACTION_VITALE = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecCarteVitale"
DEFAULT_IDAM = "BANC-SEGUR-DUI"
DEFAULT_URL = f"https://localhost:{DEFAULT_PORTS['insi']}/lps"
CONTENT_TYPE = "application/soap+xml; charset=utf-8; action=\"{action}\""
KNOWN_GENERATED = 200
"""Generated identities searched by `bench_identity` (the INSi mock seeds 100 by default)."""


def bench_identity(ins: str, seed: int = DEFAULT_SEED) -> Identity | None:
    """The bench identity (CNAM test set, or generated with `seed`) that carries this INS, as
    the INSi mock answers for it — so that clients use the same OID as INSi returned."""
    wanted = "".join(ins.split())
    return next((i for i in population(KNOWN_GENERATED, seed) if i.ins == wanted), None)


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        element.text = text
    return element


def _envelope(
    action: str, body: etree._Element, *, idam: str | None, with_lps: bool, with_bam: bool,
    extra_headers: list[etree._Element] | tuple = (),
) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    env = etree.Element(
        f"{{{SOAP12_NS}}}Envelope",
        nsmap={"soap": SOAP12_NS, "wsa": WSA_NS, "ctxlps": CTXLPS_NS, "ctxbam": CTXBAM_NS},
    )
    header = _sub(env, SOAP12_NS, "Header")
    if with_bam:
        bam = _sub(header, CTXBAM_NS, "ContexteBAM")
        bam.set("Version", "01_02")
        _sub(bam, CTXBAM_NS, "Id", str(uuid.uuid4()))
        _sub(bam, CTXBAM_NS, "Temps", now)
        _sub(bam, CTXBAM_NS, "Emetteur", "BANC-SEGUR")
        _sub(bam, CTXBAM_NS, "COUVERTURE")
    _sub(header, WSA_NS, "MessageID", f"urn:uuid:{uuid.uuid4()}")
    _sub(header, WSA_NS, "Action", action)
    if with_lps:
        lps = _sub(header, CTXLPS_NS, "ContexteLPS")
        lps.set("Nature", "CTXLPS")
        lps.set("Version", "01_00")
        _sub(lps, CTXLPS_NS, "Id", str(uuid.uuid4()))
        _sub(lps, CTXLPS_NS, "Temps", now)
        _sub(lps, CTXLPS_NS, "Emetteur", "BANC-SEGUR")
        software = _sub(lps, CTXLPS_NS, "LPS")
        _sub(software, CTXLPS_NS, "IDAM", idam or "").set("R", "4")
        _sub(software, CTXLPS_NS, "Version", "1.0.0")
        _sub(software, CTXLPS_NS, "Instance", str(uuid.uuid4()))
        _sub(software, CTXLPS_NS, "Nom", "Banc Segur")
    header.extend(list(extra_headers))
    _sub(env, SOAP12_NS, "Body").append(body)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def build_traits_request(
    birth_name: str, first_names: list[str] | tuple[str, ...] | str, sex: str, birth_date: str,
    birth_place: str | None = None, *, idam: str | None = DEFAULT_IDAM, with_lps: bool = True,
    with_bam: bool = True, action: str = ACTION_TRAITS,
    extra_headers: list[etree._Element] | tuple = (),
) -> bytes:
    """A `rechercherInsAvecTraitsIdentite` request as a DUI sends it (values sent as given)."""
    body = etree.Element(f"{{{RECSANS_NS}}}RECSANSVITALE", nsmap={"ins": RECSANS_NS})
    _sub(body, RECSANS_NS, "NomNaissance", birth_name)
    for first in [first_names] if isinstance(first_names, str) else first_names:
        _sub(body, RECSANS_NS, "Prenom", first)
    _sub(body, RECSANS_NS, "Sexe", sex)
    _sub(body, RECSANS_NS, "DateNaissance", birth_date)
    if birth_place:
        _sub(body, RECSANS_NS, "LieuNaissance", birth_place)
    return _envelope(action, body, idam=idam, with_lps=with_lps, with_bam=with_bam,
                     extra_headers=extra_headers)


def build_vitale_request(
    matricule: str, key: str | None, birth_date: str, *, birth_name: str | None = None,
    idam: str | None = DEFAULT_IDAM,
) -> bytes:
    """A `rechercherInsAvecCarteVitale` request (the beneficiary's NIR read on the card)."""
    body = etree.Element(f"{{{RECVIT_NS}}}RECVITALE", nsmap={"vit": RECVIT_NS})
    individual = _sub(body, RECVIT_NS, "MatriculeIndividu")
    _sub(individual, RECVIT_NS, "NumIdentifiant", matricule)
    if key:
        _sub(individual, RECVIT_NS, "Cle", key)
    if birth_name:
        _sub(body, RECVIT_NS, "NomNaissance", birth_name)
    _sub(body, RECVIT_NS, "DateNaissance", birth_date)
    return _envelope(ACTION_VITALE, body, idam=idam, with_lps=True, with_bam=True)


def describe_answer(data: bytes) -> str:
    """A French one-paragraph reading of an INSi answer (result or fault)."""
    envelope = parse_envelope(data, require_payload=False)
    fault = parse_fault(envelope)
    if fault is not None:
        codes = ", ".join(f"{d.get('code')} ({d.get('severite')})" for d in fault.detail)
        return f"refus SOAP {fault.code} {codes} : {fault.reason}"
    result = envelope.payload
    if result is None or result.tag != f"{{{RESULTAT_NS}}}RESULTAT":
        return "réponse sans RESULTAT"
    ns = {"r": RESULTAT_NS}
    code = result.findtext("r:CR/r:CodeCR", namespaces=ns)
    label = result.findtext("r:CR/r:LibelleCR", namespaces=ns)
    lines = [f"CR {code} — {label}"]
    active = result.find("r:INDIVIDU/r:INSACTIF", ns)
    if active is not None:
        lines.append(
            f"INS {active.findtext('r:IdIndividu/r:NumIdentifiant', namespaces=ns)}"
            f"{active.findtext('r:IdIndividu/r:Cle', namespaces=ns)} "
            f"(OID {active.findtext('r:OID', namespaces=ns)})"
        )
        tiq = result.find("r:INDIVIDU/r:TIQ", ns)
        for trait in tiq if tiq is not None else ():
            lines.append(f"  {etree.QName(trait).localname} : {trait.text}")
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("insi", help="client INSi de référence et identités du banc")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    search = actions.add_parser("chercher", help="recherche INS par traits d'identité")
    search.add_argument("nom", help="nom de naissance")
    search.add_argument("prenom", help="un prénom, ou la liste entre guillemets")
    search.add_argument("sexe", choices=("M", "F"), help="sexe (M ou F)")
    search.add_argument("date", help="date de naissance AAAA-MM-JJ")
    search.add_argument("--lieu", help="code INSEE du lieu de naissance")
    option(search, "--url", default=DEFAULT_URL, help=f"adresse du service INSi (défaut : {DEFAULT_URL})")
    search.add_argument("--certificat", default="insi-auto", help="certificat client de la PKI du banc")
    search.add_argument("--idam", default=DEFAULT_IDAM, help="identifiant du logiciel (IDAM)")
    option(search, "--pki")
    search.set_defaults(handler=_search)
    cases = actions.add_parser("cas", help="cas de test publics CNAM et réponse attendue")
    cases.set_defaults(handler=_cases)
    people = actions.add_parser("identites", help="identités du banc (CNAM + générées)")
    option(people, "--generees", type=int, default=0)
    option(people, "--graine", type=int, default=DEFAULT_SEED)
    option(people, "--json", help="afficher les identités au format JSON")
    option(people, "--sortie", type=Path, help="écrire les identités dans ce fichier JSON")
    people.set_defaults(handler=_people)


def _search(args: argparse.Namespace) -> int:
    import httpx

    from banc.pki import TestPki

    pki = TestPki.ensure(args.pki)
    request = build_traits_request(
        args.nom, args.prenom, args.sexe, args.date, args.lieu, idam=args.idam
    )
    context = pki.client_context(args.certificat) if args.certificat else pki.client_context()
    try:
        response = httpx.post(
            args.url, content=request, verify=context, timeout=30,
            headers={"Content-Type": CONTENT_TYPE.format(action=ACTION_TRAITS)},
        )
    except httpx.HTTPError as exc:
        raise UsageError(f"service INSi injoignable à {args.url} : {exc}") from None
    print(f"HTTP {response.status_code}")
    print(describe_answer(response.content))
    return 0 if response.status_code == 200 else 1


def _cases(args: argparse.Namespace) -> int:
    for case in cnam_test_cases():
        answer = f"CR {case.expected_cr}" + (f" INS {case.expected_ins}" if case.expected_ins else "")
        print(f"{case.label:<45} {answer}")
    return 0


def _people(args: argparse.Namespace) -> int:
    people = population(args.generees, args.graine)
    if args.sortie:
        dump_identities(people, args.sortie)
        print(f"{len(people)} identités écrites dans {args.sortie}")
        return 0
    if args.json:
        print(json.dumps([identity_to_dict(p) for p in people], ensure_ascii=False, indent=2))
        return 0
    for person in people:
        print(
            f"{person.ins}  {person.birth_name:<16} {' '.join(person.first_names):<28} "
            f"{person.sex} {person.birth_date} {person.birth_place or '-'}"
        )
    return 0
