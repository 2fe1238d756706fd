"""`banc dui`: declare a DUI under test once, in every mock (`enregistrer`), list them
(`liste`), or write a starting profile with certificates issued by the bench CA (`nouveau`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from banc.cli import UsageError
from banc.cli.run import register_everywhere
from banc.cli.vocabulary import command, option
from banc.control import ControlError
from banc.dui import NAME_PATTERN, DuiProfile, ProfileError
from banc.journal import Journal
from banc.sheet import BenchSheet, SheetError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dui", help="déclarer un DUI sous test auprès de tous les simulateurs")
    commands = parser.add_subparsers(dest="dui_command", metavar="ACTION", required=True)
    add = commands.add_parser("enregistrer", help="enregistrer un profil TOML dans le banc démarré")
    add.add_argument("profil", help="fichier TOML du profil du DUI")
    option(add, "--fiche", help="fiche de configuration du banc (défaut : celle du banc démarré)")
    add.set_defaults(handler=_register)
    listing = command(commands, "liste", help="lister les DUI enregistrés")
    option(listing, "--fiche", help="fiche de configuration du banc (défaut : celle du banc démarré)")
    listing.set_defaults(handler=_list)
    new = commands.add_parser("nouveau", help="écrire un profil de départ et ses certificats de test")
    new.add_argument("nom", help="nom du DUI (minuscules, chiffres, - et _)")
    option(new, "--sortie", default=".", help="dossier où écrire le profil")
    option(new, "--fiche", help="fiche de configuration du banc (pour l'AC de test)")
    new.set_defaults(handler=_new)


def _sheet(args: argparse.Namespace) -> BenchSheet:
    try:
        return BenchSheet.load(args.fiche)
    except SheetError as exc:
        raise UsageError(str(exc)) from None


def _register(args: argparse.Namespace) -> int:
    sheet = _sheet(args)
    try:
        profile = DuiProfile.from_toml(args.profil)
        done = register_everywhere(profile, Journal(sheet.journal), sheet, {})
    except (ProfileError, ControlError) as exc:
        raise UsageError(str(exc)) from None
    print(f"DUI « {profile.name} » enregistré :")
    for service, what in done.items():
        print(f"  {service:<10} {what}")
    return 0


def _list(args: argparse.Namespace) -> int:
    profiles = Journal(_sheet(args).journal).duis()
    if not profiles:
        print("aucun DUI enregistré (banc dui enregistrer PROFIL.toml)")
    for profile in profiles:
        keys = ", ".join(f"{k}={len(v)}" for k, v in profile.identity_keys().items())
        print(f"{profile.name:<20} {profile.label:<30} clés d'attribution : {keys}")
    return 0


def _new(args: argparse.Namespace) -> int:
    if not NAME_PATTERN.match(args.nom):
        raise UsageError(f"nom « {args.nom} » invalide : minuscules, chiffres, - et _")
    pki = _sheet(args).pki
    folder = Path(args.sortie)
    certificates = folder / "certificats"
    certificates.mkdir(parents=True, exist_ok=True)
    for stem, cn, usage in ((f"{args.nom}-tls", f"DUI-{args.nom.upper()}", "client"),
                            (f"{args.nom}-vihf", f"VIHF-{args.nom.upper()}", "signing")):
        pki.issue(stem, cn, usage=usage)
        for suffix in (".pem", ".key", ".p12"):
            (certificates / f"{stem}{suffix}").write_bytes((pki.directory / f"{stem}{suffix}").read_bytes())
    profile = folder / f"{args.nom}.toml"
    profile.write_text(_template(args.nom), encoding="utf-8")
    print(f"profil écrit : {profile.resolve()} (certificats dans {certificates.resolve()}) ; "
          f"complétez-le puis : banc dui enregistrer {profile}")
    return 0


def _template(name: str) -> str:
    upper = name.upper()
    return f'''# Profil du DUI sous test — Banc Ségur. Chaque section déclare ce qu'un simulateur doit connaître.
nom = "{name}"
libelle = "{name}"
editeur = ""

[insi]
idam = "{upper}-IDAM"        # identifiant du logiciel dans ContexteLPS/LPS/IDAM
logiciel = "{upper}"
version = "1.0"

[psc]
client_id = "{name}"
secret = "{name}-secret"
redirections = ["https://localhost/psc/retour"]

[[mssante.boites]]
adresse = "dui@ssiad-val-de-morge.mssante.fr"
authentification = "certificat"   # ou "xoauth2" (jeton Pro Santé Connect)

[dmp]
structure = ""                    # Identifiant_Structure porté par le VIHF
lps_id = "{upper}"
lps_nom = "{upper}"
lps_version = "1.0"
homologation = ""
certificat_vihf = "certificats/{name}-vihf.pem"

[annuaire]
cle_api = "{name}-cle-annuaire"

[tls]
certificats = ["certificats/{name}-tls.pem"]

[pilotage]
url = ""                          # point d'entrée du protocole de pilotage (pilote http)
'''
