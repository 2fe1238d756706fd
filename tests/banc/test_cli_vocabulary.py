"""Every parser of `banc` and of the mocks' `python -m` entry points: French words, help on
every option, one name per meaning (`banc.cli.vocabulary`), old names still accepted."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from banc.cli import COMMANDS, build_parser, main
from banc.cli.french import FrenchParser
from banc.cli.vocabulary import (
    ALIASES,
    OPTION_TERMS,
    _walk,
    command,
    name_clashes,
    option,
    parser_problems,
)

MOCKS = ("insi_mock", "dmp_mock", "annuaire_mock", "psc_mock", "mssante_mock")
ENGLISH = ("usage:", "positional arguments", "show this help message", "options:", "error:",
           "subcommands")


def _mock_parser(module: str) -> argparse.ArgumentParser:
    return importlib.import_module(f"simulators.{module}.__main__").build_parser()


def _top_level() -> dict[str, argparse.ArgumentParser]:
    """Each top-level command's parser, by its main name."""
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {p.prog.split()[-1]: p for p in dict.fromkeys(commands.choices.values())}


def test_every_module_registers_a_command() -> None:
    assert len(_top_level()) >= len(COMMANDS)  # a module may register several (run.py: jouer, preuve…)


@pytest.mark.parametrize("name", sorted(_top_level()))
def test_command_follows_the_vocabulary(name: str) -> None:
    assert parser_problems(_top_level()[name]) == []


@pytest.mark.parametrize("module", MOCKS)
def test_mock_entry_point_follows_the_vocabulary(module: str) -> None:
    assert parser_problems(_mock_parser(module)) == []


def test_root_parser_and_one_meaning_per_name_everywhere() -> None:
    root = build_parser()
    assert parser_problems(root, nested=False) == []
    assert name_clashes(root, *(_mock_parser(m) for m in MOCKS)) == []


def test_the_check_finds_each_kind_of_problem() -> None:
    parser = FrenchParser(prog="essai")
    parser.add_argument("--seed", type=int, help="graine")  # old name as the main one
    parser.add_argument("--sortie", help="fichier")  # declared alias --out missing
    parser.add_argument("--lieu", "--place", help="lieu")  # undeclared second name
    parser.add_argument("--json", metavar="FICHIER", help="fichier JSON")  # a flag in the vocabulary
    parser.add_argument("--sans-aide")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", help="lister")  # old name
    actions.add_parser("liste", help="lister", aliases=["ls"])  # undeclared alias, "list" missing
    actions.add_parser("muet")  # no help
    other = FrenchParser(prog="autre")
    other.add_argument("--lieu", action="store_true", help="drapeau")
    found = "\n".join(parser_problems(parser) + name_clashes(parser, other))
    for expected in ("essai --seed : ancien nom, l'option s'appelle « --graine »",
                     "essai --sortie : alias « --out » manquant",
                     "essai --lieu : second nom « --place » non déclaré",
                     "essai --json : est un drapeau dans le vocabulaire",
                     "essai --sans-aide : sans aide",
                     "essai list : ancien nom, la commande s'appelle « liste »",
                     "essai liste : alias « list » manquant",
                     "essai liste : alias « ls » non déclaré",
                     "essai muet : commande sans aide",
                     "--lieu : attend une valeur dans « essai » mais est un drapeau dans « autre »"):
        assert expected in found


def test_helpers_declare_the_aliases_and_pass_the_check() -> None:
    parser = FrenchParser(prog="essai")
    for name in OPTION_TERMS:
        option(parser, name)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    command(actions, "liste", help="lister")
    assert parser_problems(parser) == []
    assert parser.parse_args(["--out", "x", "--seed", "3", "--http", "list"]).sortie == "x"


def test_every_help_is_french_and_hides_the_aliases() -> None:
    roots = [build_parser(), *(_mock_parser(m) for m in MOCKS)]
    for root in roots:
        for parser in _walk(root):
            text = parser.format_help()
            assert not [w for w in ENGLISH if w in text], parser.prog
            assert "utilisation : " in text and "afficher cette aide et quitter" in text
            aliases = {s for a in parser._actions if set(a.option_strings) - set(ALIASES)
                       for s in a.option_strings if s in ALIASES}
            shown = {a for a in aliases if f"{a} " in text or f"{a}\n" in text or f"{a}," in text}
            assert not shown, (parser.prog, shown)


def test_old_names_still_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pki", "init", "--dir", str(tmp_path)]) == 0
    assert main(["pki", "initialiser", "--pki", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("INSI-AUTO") == 2


def test_errors_are_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["journal", "voir", "douze"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("utilisation : banc journal voir")
    assert "banc journal voir : erreur : argument NUMERO : valeur invalide (entier attendu) : 'douze'" in err
    with pytest.raises(SystemExit):
        main(["insi", "chercher", "DUPONT"])
    assert "erreur : arguments obligatoires manquants : prenom, sexe, date" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["pas-une-commande"])
    assert "erreur : argument COMMANDE : choix invalide : 'pas-une-commande' (possibles : " in capsys.readouterr().err


def test_mock_entry_point_errors_are_french() -> None:
    done = subprocess.run([sys.executable, "-m", "simulators.insi_mock", "--port", "neuf"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("utilisation : python -m simulators.insi_mock")
    assert "erreur : argument --port : valeur invalide (entier attendu) : 'neuf'" in done.stderr
    assert "usage" not in done.stderr and "Traceback" not in done.stderr
