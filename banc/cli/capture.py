"""`banc capture`: record a DUI's real traffic (mitmproxy), `banc capture importer`: judge it.

Recording: `banc capture --ecoute PORT --amont URL` (reverse proxy: the DUI is pointed at the
recorder instead of the service) or without `--amont` (forward proxy: the DUI uses the recorder
as its HTTPS proxy). Certificates presented to the DUI are signed by the bench's test CA
unless `--ca` / `--certificat-serveur` give the user's own; `--certificat-client` is presented
to the upstream (mutual TLS). Runs until Ctrl+C; one flow file per session in `--sortie`.

Import: `banc capture importer FICHIER… --dui PROFIL` replays every request into its mock
(banc.capture.replay) and journals it as an exchange of the DUI, with a French report.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from banc.cli import UsageError
from banc.cli.vocabulary import command, option
from banc.paths import cache_dir
from banc.pki import TestPki

READY = "Enregistreur à l'écoute :"
SAVING = "Capture enregistrée dans :"
"""First lines of a recorder's output (read by `banc.capture.process`)."""
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
"""An upstream on this machine is the bench: its certificate is checked against the test CA."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command(subparsers, "capture", help="enregistrer le trafic réel d'un DUI (mitmproxy) "
                                                  "et le juger hors ligne")
    option(parser, "--ecoute", type=int, default=9200)
    option(parser, "--amont")
    option(parser, "--sortie", metavar="DOSSIER", help="dossier des captures (défaut : cache utilisateur/captures)")
    option(parser, "--pki")
    parser.add_argument("--ca", metavar="PEM", help="certificat de l'AC qui signe les certificats "
                        "présentés au DUI (défaut : AC de test du banc)")
    parser.add_argument("--cle-ca", metavar="PEM", help="clé privée de cette AC (défaut : dans le "
                        "fichier --ca)")
    parser.add_argument("--certificat-serveur", metavar="PEM", help="certificat et clé présentés "
                        "au DUI à la place de ceux signés par l'AC")
    parser.add_argument("--certificat-client", metavar="PEM", help="certificat présenté au service "
                        "amont (TLS mutuel), avec sa clé ou suivi de --cle-client")
    parser.add_argument("--cle-client", metavar="PEM", help="clé privée du certificat client")
    parser.add_argument("--ca-amont", metavar="PEM", help="AC de confiance pour le certificat du "
                        "service amont (défaut : AC de test du banc pour un amont local, sinon "
                        "celles du système)")
    parser.set_defaults(handler=_record)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    importer = command(actions, "importer", help="importer une capture dans le journal et la juger")
    importer.add_argument("fichiers", nargs="+", metavar="FICHIER", help="capture(s) mitmproxy "
                          "(.flows) : plusieurs sont fusionnées dans l'ordre d'envoi")
    importer.add_argument("--dui", required=True, metavar="PROFIL",
                          help="profil du DUI (fichier TOML ou nom enregistré, banc dui liste)")
    option(importer, "--journal")
    option(importer, "--pki")
    option(importer, "--graine", type=int, default=20240101)
    importer.add_argument("--exemples-officiels", action="store_true",
                          help="juger avec les tolérances des exemples ANS (certificats VIHF "
                               "étrangers expirés, SOAP 1.1…), chacune signalée")
    importer.add_argument("--masquer", action="store_true",
                          help="masquer les noms et INS dans le rapport")
    option(importer, "--sortie", default="out/executions",
           help="dossier des rapports de l'exécution d'import (un sous-dossier par exécution)")
    importer.set_defaults(handler=_import)


def _file(value: str | None, what: str) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise UsageError(f"{what} introuvable : {path}")
    return path


def _record(args: argparse.Namespace) -> int:
    from banc.capture.recorder import Recorder, RecorderError, RecorderSettings

    pki = TestPki.ensure(args.pki)
    ca = _file(args.ca, "certificat d'AC (--ca)")
    ca_key = _file(args.cle_ca, "clé d'AC (--cle-ca)") or ca
    client = (Path(args.certificat_client) if args.certificat_client and Path(args.certificat_client).is_dir()
              else _file(args.certificat_client, "certificat client (--certificat-client)"))
    client_key = _file(args.cle_client, "clé client (--cle-client)") or client
    if args.amont and not args.amont.startswith(("http://", "https://")):
        raise UsageError(f"--amont {args.amont} : une URL http:// ou https:// est attendue")
    local = urlparse(args.amont or "").hostname in LOCAL_HOSTS
    settings = RecorderSettings(
        listen_port=args.ecoute, output_dir=Path(args.sortie) if args.sortie else cache_dir() / "captures",
        ca_cert=ca or pki.ca_cert, ca_key=ca_key or pki.ca_key, upstream=args.amont,
        upstream_ca=_file(args.ca_amont, "AC amont (--ca-amont)") or (pki.ca_cert if local else None),
        server_certificate=_file(args.certificat_serveur, "certificat serveur (--certificat-serveur)"),
        client_certificate=(client, client_key) if client and client_key else None,
    )
    recorder = Recorder(settings, announce=lambda line: print(line, flush=True))
    try:
        recorder.start()
    except RecorderError as exc:
        raise UsageError(str(exc)) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    mode = f"mandataire inverse vers {args.amont}" if args.amont else "mandataire direct (HTTP(S) proxy)"
    print(f"{READY} {recorder.url} ({mode})", flush=True)
    print(f"{SAVING} {recorder.capture_file}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        recorder.stop()
    print(f"{recorder.count} échange(s) enregistré(s) dans {recorder.capture_file}", flush=True)
    return 0


def _import(args: argparse.Namespace) -> int:
    from banc.capture.flows import CaptureError, read_captures
    from banc.capture.replay import OFFICIAL_EXAMPLES, ReplaySettings, import_capture
    from banc.capture.report import Redactor, lines
    from banc.capture.run import record_run
    from banc.cli.run import resolve_profile
    from banc.journal import Journal, default_path
    from banc.scenario.report import build, write_reports
    from banc.scenario.runs import RunStore

    try:
        captured = read_captures(args.fichiers)
    except CaptureError as exc:
        raise UsageError(str(exc)) from None
    if not captured:
        raise UsageError(f"aucun échange HTTP dans {', '.join(args.fichiers)}")
    journal = Journal(Path(args.journal) if args.journal else default_path())
    profile = resolve_profile(args.dui, journal, None, None)  # type: ignore[arg-type]
    settings = ReplaySettings(pki=TestPki.ensure(args.pki), seed=args.graine,
                              mock_settings=OFFICIAL_EXAMPLES if args.exemples_officiels else {})
    imported = import_capture(captured, journal, profile, settings,
                              label=f"capture {', '.join(Path(f).name for f in args.fichiers)}")
    for line in lines(imported, Redactor(enabled=args.masquer)):
        print(line)
    run = record_run(imported, journal, profile, files=[Path(f).name for f in args.fichiers])
    report = write_reports(build(run, journal, RunStore(journal)), Path(args.sortie) / run.id)
    print(f"Exécution {run.id} : rapport {report} (banc rapport {run.id} --paquet [--masquer] pour le "
          "paquet de preuves)")
    print(f"Journal : {journal.path} (banc journal liste --dui {profile.name})", file=sys.stderr)
    return 1 if any(i.judged and not i.exchange.conform for i in imported) else 0
