"""`banc validate FILE…`: XSD + official ANS schematrons + our rules, exit 0/1/2/3.

By default documents go to the warm local validation service (`banc.cda.service`), started on
first use, so only the first run pays the Saxon compilation; the command says once where it
runs and when it stops. `--sur-place` validates in this process (with `--jobs N`, in N
processes, for large batches).

Exit codes: 0 every file conform; 1 some file non-conform; 2 some file could not be judged
(input error: not a regular file, not XML, DOCTYPE, not a CDA document…), whatever the others;
3 the validator itself failed on some file — the other files keep their verdicts and the
report is still written. Input errors are printed once: in the text report when it goes to
the terminal, else on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from banc.cda.engine import input_verdict
from banc.cli import UsageError
from banc.cli.vocabulary import command, option
from banc.report import FORMATS, is_input_error, to_html, to_json, to_junit_xml, to_text
from banc.verdict import Finding, Verdict
from banc.xml import XmlInputError, read_untrusted_file

_ZIP_MAGIC = b"PK\x03\x04"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command(subparsers, "valider", help="valider des documents CDA (XSD, schématrons ANS, règles DSR du banc)")
    parser.add_argument("files", nargs="+", metavar="FICHIER", help="documents CDA à valider")
    parser.add_argument("--format", choices=FORMATS, default="text", help="format du rapport (text par défaut)")
    option(parser, "--sortie", help="écrire le rapport dans ce fichier (html : banc-validation.html par défaut)")
    parser.add_argument("--volet", help="imposer le schématron de volet (ex. CI-SIS_DLU-EHPAD-DLU_2022.01)")
    parser.add_argument("--ans", help="dossier du paquet ANS TestContenuCDA (sinon BANC_ANS_PACKAGE, cache, référence)")
    parser.add_argument("--sur-place", dest="in_process", action="store_true",
                        help="valider dans ce processus, sans le service de validation local")
    option(parser, "--processus", type=int, default=1, help="avec --sur-place : nombre de processus (lots volumineux)")
    parser.set_defaults(handler=_run)


def read_input(path: Path) -> tuple[bytes | None, Verdict | None]:
    """The file's bytes, or the verdict explaining why it cannot be validated (never raises)."""
    name = str(path)
    try:
        data = read_untrusted_file(path)
    except XmlInputError as exc:
        return None, input_verdict(name, exc.message, exc.code)
    if data.startswith(_ZIP_MAGIC):
        return None, input_verdict(
            name, f"{name} est une archive zip, pas un document CDA : extrayez-en le document XML", "zip"
        )
    return data, None


_worker_engine = None


def _worker_init(ans: str | None) -> None:
    global _worker_engine
    from banc.cda.engine import Engine
    from banc.cda.package import find_package

    _worker_engine = Engine(find_package(ans)).warm()


def _worker_validate(item: tuple[bytes, str | None, str]) -> dict:
    data, volet, subject = item
    return _worker_engine.validate(data, volet=volet, subject=subject).to_dict()


def internal_verdict(subject: str, problem: str) -> Verdict:
    """The validator failed on this file (a defect of ours): said, and the batch goes on."""
    return Verdict(
        subject,
        [Finding(
            rule_id="validation-interrompue",
            message=f"{subject} : le validateur a échoué sur ce document ({problem}) ; signalez-le "
                    "avec le fichier",
            ruleset="banc",
        )],
        details={"internal_error": True},
    )


def _validate_all(args: argparse.Namespace, paths: list[Path]) -> list[Verdict]:
    from tqdm import tqdm

    from banc.cda.package import PackageError, find_package

    try:
        package = find_package(args.ans)
    except PackageError as exc:
        raise UsageError(str(exc)) from None
    inputs = [read_input(p) for p in paths]
    todo = [(data, args.volet, str(p)) for p, (data, err) in zip(paths, inputs, strict=True) if err is None]
    results: list[Verdict] = []
    progress = tqdm(total=len(todo), desc="validation", unit="doc", disable=None if len(todo) > 3 else True,
                    file=sys.stderr)
    if args.in_process and args.processus > 1:
        with ProcessPoolExecutor(args.processus, initializer=_worker_init, initargs=(str(package.root),)) as pool:
            futures = [(item[2], pool.submit(_worker_validate, item)) for item in todo]
            for subject, future in futures:
                try:
                    results.append(Verdict.from_dict(future.result()))
                except Exception as exc:  # a worker died or raised: this file only
                    results.append(internal_verdict(subject, f"{type(exc).__name__} : {exc}"))
                progress.update()
    else:
        validate = _backend(package, args.in_process)
        for data, volet, subject in todo:
            results.append(validate(data, volet=volet, subject=subject))
            progress.update()
    progress.close()
    done = iter(results)
    return [err if err is not None else next(done) for _, err in inputs]


def _backend(package, in_process: bool) -> Callable[..., Verdict]:
    """How documents get validated: the warm service, or this process.

    Printed once on stderr: where the service runs and when it stops. A document the service
    fails on is reported as such (`internal_verdict`) and the next ones are validated here.
    """
    from banc.cda.engine import Engine

    if in_process:
        return _guarded(Engine(package).validate)
    from banc.cda.service import Client, ServiceError

    client = Client(package)
    try:
        client.ensure(on_wait=lambda: print(
            "banc : démarrage du service de validation (compilation des schématrons, une fois)…",
            file=sys.stderr,
        ))
    except ServiceError as exc:
        print(f"banc : {exc} ; validation dans ce processus", file=sys.stderr)
        return _guarded(Engine(package).validate)
    notice = client.describe()
    if notice:
        print(f"banc : {'démarré' if client.started else 'réutilisé'} : {notice}", file=sys.stderr)
    local: list[Callable[..., Verdict]] = []

    def validate(data: bytes, *, volet: str | None = None, subject: str = "") -> Verdict:
        if local:
            return local[0](data, volet=volet, subject=subject)
        try:
            return client.validate(data, volet=volet, subject=subject)
        except ServiceError as exc:
            print(f"banc : {exc} ; documents suivants validés dans ce processus", file=sys.stderr)
            local.append(_guarded(Engine(package).validate))
            return internal_verdict(subject, str(exc))

    return validate


def _guarded(validate: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """`validate` that turns a defect of ours on one document into that document's verdict."""

    def run(data: bytes, *, volet: str | None = None, subject: str = "") -> Verdict:
        try:
            return validate(data, volet=volet, subject=subject)
        except Exception as exc:
            return internal_verdict(subject, f"{type(exc).__name__} : {exc}")

    return run


def _run(args: argparse.Namespace) -> int:
    if args.processus < 1:
        raise UsageError("--jobs doit être un entier ≥ 1")
    paths = [Path(f) for f in args.files]
    verdicts = _validate_all(args, paths)
    on_terminal = args.format == "text" and not args.sortie
    for verdict in verdicts:
        if (is_input_error(verdict) and not on_terminal) or verdict.details.get("internal_error"):
            print(f"banc : {verdict.findings[0].message}", file=sys.stderr)
    if args.format == "text":
        output = to_text(verdicts)
    elif args.format == "json":
        output = to_json(verdicts)
    elif args.format == "junit":
        output = to_junit_xml(verdicts)
    else:
        from banc.cda.render import render_html

        by_subject = {str(p): p for p in paths}
        output = to_html(
            verdicts,
            render=lambda v: None if is_input_error(v) else render_html(by_subject[v.subject]),
        )
        args.sortie = args.sortie or "banc-validation.html"
    if args.sortie:
        out = Path(args.sortie)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(output, encoding="utf-8")
        print(f"rapport écrit : {os.path.abspath(out)}")
    else:
        sys.stdout.write(output)
    if any(v.details.get("internal_error") for v in verdicts):
        return 3
    if any(is_input_error(v) for v in verdicts):
        return 2
    return 0 if all(v.conform for v in verdicts) else 1
