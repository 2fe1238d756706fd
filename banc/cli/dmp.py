"""`banc dmp …`: VIHF tokens for the DMP — produce one, or judge one (file or captured request).

- `banc dmp vihf --ins INS [--oid OID] [--profession CODE] [--mode …] [--sha1] [--sortie FICHIER]`:
  a VIHF signed with the bench's `vihf-signing` certificate (for a DUI under development, or a
  notebook). The patient's OID defaults to the one INSi answers for that INS (the CNAM test
  identities carry INS-NIR `…4.8`, generated ones the test OID `…4.10`), so the token names the
  patient as the DMP mock knows them;
- `banc dmp verifier FICHIER [--ins INS] [--exemples-officiels] [--json]`: check a VIHF token, or
  the token inside a captured SOAP request (MTOM accepted), as the DMP mock does; exit 1 when
  the token would be refused.

The mock itself starts with `python -m simulators.dmp_mock` or `banc demarrer`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lxml import etree

from banc.cli import UsageError
from banc.cli.insi import bench_identity
from banc.cli.vocabulary import option
from banc.directory import PROFESSIONS
from banc.identity import INS_OIDS, OID_INS_NIR_TEST, check_ins
from banc.pki import TestPki
from banc.population import DEFAULT_SEED
from banc.soap import mtom
from banc.verdict import Verdict
from banc.vihf import (
    MODES,
    OID_PROFESSION,
    SAML_NS,
    Role,
    VihfClaims,
    VihfPolicy,
    build_vihf_for,
    check_vihf,
)
from banc.xml import XmlInputError, parse_untrusted


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dmp", help="jetons VIHF du DMP : produire, vérifier")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    make = actions.add_parser("vihf", help="produire un jeton VIHF signé par la PKI du banc")
    make.add_argument("--ins", required=True, help="INS du patient (15 caractères)")
    _oid(make)
    make.add_argument("--mode", choices=MODES, default="INDIRECTE_RENFORCEE",
                      help="Authentification_mode (défaut : INDIRECTE_RENFORCEE)")
    make.add_argument("--profession", choices=PROFESSIONS, default="10",
                      help="profession de l'utilisateur, code TRE_G15 : "
                           + ", ".join(f"{code} {label}" for code, (label, _) in PROFESSIONS.items())
                           + " (défaut : 10)")
    make.add_argument("--utilisateur", default="810000000001", help="identifiant national (NameID)")
    make.add_argument("--nom", default="CLAIRE SOIGNANTE", help="nom de l'utilisateur (subject-id)")
    make.add_argument("--structure", default="340000000000001", help="Identifiant_Structure")
    make.add_argument("--sha1", action="store_true", help="signer en RSA-SHA1 (défaut : RSA-SHA256)")
    option(make, "--pki")
    option(make, "--sortie", help="fichier où écrire le jeton (défaut : sortie standard)")
    make.set_defaults(handler=_make)
    verify = actions.add_parser("verifier", help="vérifier un jeton VIHF ou une requête SOAP capturée")
    verify.add_argument("fichier", help="jeton (saml2:Assertion) ou requête SOAP/MTOM")
    verify.add_argument("--ins", help="INS attendu dans resource-id")
    _oid(verify)
    verify.add_argument("--exemples-officiels", action="store_true",
                        help="accepter les jetons d'exemple ANS (certificats étrangers expirés), signalé")
    option(verify, "--pki", help="dossier de la PKI de confiance (défaut : cache utilisateur)")
    option(verify, "--json", help="afficher le verdict au format JSON")
    verify.set_defaults(handler=_verify)


def _oid(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--oid", help="OID de l'INS (défaut : celui que l'INSi renvoie pour cet INS, "
                                      "sinon INS-NIR de test)")
    option(parser, "--graine", type=int, default=DEFAULT_SEED,
           help="graine des identités générées du banc, pour retrouver l'OID de l'INS")


def patient_oid(args: argparse.Namespace) -> str:
    """`--oid`, else the OID the INSi mock answers for this INS, else the test OID."""
    if args.oid:
        return args.oid
    known = bench_identity(args.ins, args.graine) if args.ins else None
    return known.oid if known else OID_INS_NIR_TEST


def _make(args: argparse.Namespace) -> int:
    oid = patient_oid(args)
    problems = check_ins(args.ins, oid)
    if problems:
        raise UsageError("; ".join(problems))
    pki = TestPki.ensure(args.pki)
    role = Role(args.profession, OID_PROFESSION, PROFESSIONS[args.profession][0])
    claims = VihfClaims(args.utilisateur, args.nom, args.structure, patient_ins=args.ins,
                        patient_oid=oid, mode=args.mode, roles=(role,))
    token = build_vihf_for(pki.directory, claims, algorithm="rsa-sha1" if args.sha1 else "rsa-sha256")
    data = etree.tostring(token, encoding="UTF-8", xml_declaration=False)
    if args.sortie:
        Path(args.sortie).write_bytes(data)
        print(f"jeton VIHF écrit dans {args.sortie} (patient {args.ins}, {INS_OIDS.get(oid, oid)} {oid} ; "
              f"signé par {pki.cert('vihf-signing')})")
    else:
        print(data.decode())
    return 0


def _assertion(data: bytes) -> etree._Element:
    if data.lstrip().startswith(b"--"):
        boundary = data.lstrip().split(b"\n", 1)[0][2:].strip().decode(errors="replace")
        try:
            data = mtom.parse(data, f'multipart/related; type="application/xop+xml"; boundary="{boundary}"').root.data
        except mtom.MtomError as exc:
            raise UsageError(f"message MTOM illisible : {exc.message}") from None
    try:
        root = parse_untrusted(data, what="le fichier")
    except XmlInputError as exc:
        if exc.code != "malformed":
            raise UsageError(exc.message) from None
        try:  # two official tokens are Latin-1 without an XML declaration
            root = parse_untrusted(data.decode("cp1252").encode(), what="le fichier")
        except (XmlInputError, UnicodeDecodeError):
            raise UsageError(exc.message) from None
    if root.tag == f"{{{SAML_NS}}}Assertion":
        return root
    found = root.find(f".//{{{SAML_NS}}}Assertion")
    if found is None:
        raise UsageError("aucun jeton VIHF (saml2:Assertion) dans ce fichier")
    return found


def _verify(args: argparse.Namespace) -> int:
    path = Path(args.fichier)
    if not path.is_file():
        raise UsageError(f"fichier introuvable : {path}")
    pki = TestPki.ensure(args.pki)
    check = check_vihf(
        _assertion(path.read_bytes()),
        policy=VihfPolicy(trusted_ca=pki.ca_cert, trust_official_examples=args.exemples_officiels),
        expected_patient=(args.ins, patient_oid(args)) if args.ins else None,
    )
    verdict = Verdict(subject=f"VIHF {path.name}", findings=check.findings,
                      details={"signé": check.signed, "signataire": check.signer_subject})
    if args.json:
        print(json.dumps(verdict.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"{verdict.subject} : {'accepté' if check.accepted else 'REFUSÉ'}"
              + (f" (signé par {check.signer_subject})" if check.signer_subject else ""))
        for finding in check.findings:
            print(f"  [{finding.severity.label}] {finding.rule_id} : {finding.message}")
    return 0 if check.accepted else 1
