"""`banc mss`: check a captured health message, send one as a simulated correspondent or as the
DUI itself (`--de dui`: the SSIAD's application mailbox, written by its coordinating nurse),
issue a bench access token for a mailbox (SASL XOAUTH2 while no PSC issuer is configured)."""

from __future__ import annotations

import argparse
import json
import smtplib
import ssl
from pathlib import Path
from urllib.parse import urlparse

from banc.access_tokens import BENCH_ISSUER, TokenSigner
from banc.cli import UsageError
from banc.cli.insi import bench_identity
from banc.cli.vocabulary import option
from banc.directory import Directory, Organisation, build_directory
from banc.documents.factory import KINDS
from banc.identity import Identity
from banc.mail.compose import HealthMessage
from banc.mail.health import check_health_message
from banc.mail.message import parse_mail
from banc.mail.senders import BROKEN_VARIANTS, Sender, named_senders
from banc.mocks import DEFAULT_PORTS
from banc.paths import cache_dir
from banc.pki import TestPki
from banc.population import DEFAULT_SEED

SIGNER = Path("mssante") / "mssante-signer.json"
"""Where the MSSanté mock keeps its token key, under the simulators' data folder."""
DEFAULT_URL = f"smtp://127.0.0.1:{DEFAULT_PORTS['mssante.smtp']}"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mss", help="messagerie MSSanté : contrôler, envoyer, jeton")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    check = actions.add_parser("verifier", help="contrôler un message capturé (.eml)")
    check.add_argument("fichier", help="message au format RFC 5322 (.eml)")
    check.add_argument("--a", dest="to", action="append", default=[], metavar="ADRESSE",
                       help="destinataire d'enveloppe (défaut : les adresses To/Cc)")
    option(check, "--json", help="afficher les constats au format JSON")
    check.set_defaults(handler=_check)

    send = actions.add_parser("envoyer", help="envoyer un message de santé au DUI (SMTP)")
    send.add_argument("--de", default="hopital", metavar="EXPEDITEUR",
                      help="hopital, medecin, dui (boîte applicative du SSIAD, côté DUI) ou une "
                           "adresse MSSanté de l'annuaire simulé (défaut : hopital)")
    send.add_argument("--a", dest="to", required=True, action="append", metavar="ADRESSE",
                      help="destinataire (répétable)")
    send.add_argument("--cda", metavar="FICHIER", help="document CDA à joindre (archive IHE_XDM construite)")
    send.add_argument("--pdf", metavar="FICHIER", help="copie PDF/A du document")
    send.add_argument("--document", choices=KINDS,
                      help="document produit par la fabrique (avec --ins) au lieu de --cda")
    send.add_argument("--ins", help="INS de l'usager (identités de test CNAM ou générées)")
    send.add_argument("--defaut", action="append", default=[], choices=sorted(BROKEN_VARIANTS),
                      help="variante volontairement défectueuse (répétable)")
    send.add_argument("--objet", help="objet (défaut : convention XDM/1.0/DDM+…)")
    send.add_argument("--accuse", action="store_true", help="demander un accusé (MDN)")
    option(send, "--url", default=DEFAULT_URL,
           help=f"serveur de soumission, smtp://hôte:port (STARTTLS) ou smtps://hôte:port (défaut : {DEFAULT_URL})")
    option(send, "--sortie", help="écrire le message dans ce fichier au lieu de l'envoyer")
    option(send, "--pki")
    _common(send)
    send.set_defaults(handler=_send)

    token = actions.add_parser("jeton", help="jeton d'accès du banc pour une boîte aux lettres")
    token.add_argument("adresse", help="adresse MSSanté de la boîte (annuaire simulé)")
    token.add_argument("--duree", type=int, default=3600, help="validité en secondes")
    _common(token)
    token.set_defaults(handler=_token)


def _common(parser: argparse.ArgumentParser) -> None:
    option(parser, "--donnees")
    option(parser, "--graine", type=int, default=DEFAULT_SEED,
           help="graine de l'annuaire et des identités simulés (celle des simulateurs)")


def _check(args: argparse.Namespace) -> int:
    path = Path(args.fichier)
    if not path.is_file():
        raise UsageError(f"fichier introuvable : {path}")
    parsed = parse_mail(path.read_bytes())
    recipients = args.to or parsed.addresses("To", "Cc")
    findings = check_health_message(parsed, recipients)
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for f in findings:
            reqs = f" ({', '.join(f.requirements)})" if f.requirements else ""
            print(f"{f.severity.label:<13} {f.rule_id}{reqs} : {f.message}")
        errors = sum(1 for f in findings if f.is_error)
        print(f"{path.name} : {errors} erreur(s), {len(findings) - errors} autre(s) constat(s)")
    return 1 if any(f.is_error for f in findings) else 0


def _national_id(directory: Directory, address: str) -> str:
    box = directory.mailbox(address)
    if box is None:
        raise UsageError(f"{address} n'est pas une boîte de l'annuaire simulé")
    owner = directory.owner(box)
    if isinstance(owner, Organisation):
        members = directory.members(owner.id)
        if not members:
            raise UsageError(f"aucun professionnel habilité sur {address}")
        return members[0].national_id
    if owner is None:
        raise UsageError(f"titulaire de {address} introuvable")
    return owner.national_id


def _signer(args: argparse.Namespace) -> TokenSigner:
    base = Path(args.donnees) if args.donnees else cache_dir() / "simulators"
    return TokenSigner.load_or_create(base / SIGNER, BENCH_ISSUER)


def _token(args: argparse.Namespace) -> int:
    directory = build_directory(args.graine)
    print(_signer(args).issue(_national_id(directory, args.adresse), lifetime=args.duree))
    return 0


def _identity(ins: str, seed: int) -> Identity:
    identity = bench_identity(ins, seed)
    if identity is None:
        raise UsageError(f"INS {ins} inconnu des identités du banc (banc insi identites pour la liste)")
    return identity


def senders(directory: Directory) -> dict[str, Sender]:
    """`--de` names: the simulated correspondents, and `dui` — the DUI under test itself (the
    SSIAD's application mailbox, its coordinating nurse as author), to play the DUI's side."""
    dui = Sender(directory.ssiad_app_mailbox.address,
                 directory.person("infirmiere_coordinatrice"), directory.ssiad)
    return {**named_senders(directory), "dui": dui}


def _message(args: argparse.Namespace, directory: Directory) -> HealthMessage:
    known = senders(directory)
    if "@" in args.de:
        if args.document:
            raise UsageError(f"--document demande un auteur de l'annuaire : --de {', '.join(known)}")
        sender = None
        address = args.de.lower()
    elif args.de in known:
        sender = known[args.de]
        address = sender.address
    else:
        raise UsageError(f"expéditeur inconnu : {args.de} ({', '.join(known)} ou une adresse)")
    try:
        cda = Path(args.cda).read_bytes() if args.cda else None
        pdf = Path(args.pdf).read_bytes() if args.pdf else None
    except OSError as exc:
        raise UsageError(f"lecture impossible : {exc}") from None
    if args.document:
        if not args.ins:
            raise UsageError("--document demande --ins (l'usager du document)")
        assert sender is not None
        document = sender.document(args.document, _identity(args.ins, args.graine))
        message = sender.message(args.to, document, pdf=pdf, notify=args.accuse,
                                 broken=tuple(args.defaut))
    else:
        message = HealthMessage(sender=address, recipients=args.to, cda=cda, pdf=pdf,
                                notify_to=address if args.accuse else None)
        for name in args.defaut:
            message = BROKEN_VARIANTS[name](message)
    if args.objet:
        message.subject = args.objet
    return message


APP_CERTIFICATE = "mss-app"
"""Client certificate of the bench PKI that opens the SSIAD's application mailbox."""


def _authentication(args: argparse.Namespace, directory: Directory,
                    sender: str) -> tuple[str, str, ssl.SSLContext]:
    """How `sender` logs in, as MSSanté requires: an application mailbox (the DUI's) with its
    certificate (SASL EXTERNAL), a personal or organisational one with an access token."""
    pki = TestPki.ensure(args.pki)
    box = directory.mailbox(sender)
    if box is not None and box.kind == "APP":
        return "EXTERNAL", sender, pki.client_context(APP_CERTIFICATE)
    token = _signer(args).issue(_national_id(directory, sender))
    return "XOAUTH2", f"user={sender}\x01auth=Bearer {token}\x01\x01", pki.client_context()


def _send(args: argparse.Namespace) -> int:
    directory = build_directory(args.graine)
    message = _message(args, directory)
    sender = message.sender
    raw = message.build()
    if args.sortie:
        Path(args.sortie).write_bytes(raw)
        print(f"message écrit dans {args.sortie} ({len(raw)} octets)")
        return 0
    url = urlparse(args.url)
    if url.scheme not in ("smtp", "smtps") or not url.port:
        raise UsageError(f"--url {args.url!r} : smtp://hôte:port ou smtps://hôte:port attendu")
    mechanism, credentials, context = _authentication(args, directory, sender)
    try:
        if url.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, url.port, context=context, timeout=60)
        else:
            smtp = smtplib.SMTP(url.hostname, url.port, timeout=60)
            smtp.starttls(context=context)
        with smtp:
            smtp.ehlo()
            smtp.auth(mechanism, lambda _=None: credentials)
            refused = smtp.sendmail(sender, args.to, raw)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise UsageError(f"envoi impossible vers {args.url} : {exc}") from None
    for address, (code, reply) in refused.items():
        print(f"refusé : {address} ({code} {reply.decode(errors='replace')})")
    print(f"message envoyé de {sender} à {', '.join(args.to)} ({len(raw)} octets)")
    return 0
