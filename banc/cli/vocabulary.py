"""The one vocabulary of the command line, as data, and the check that parsers follow it.

Every option or command that means the same thing in several places has one French name here,
with its meaning and the older or English names still accepted (`--out` for `--sortie`, `up`
for `demarrer`…) so that scripts already written keep working. `option()` and `command()` add
them with their aliases; `problems()` walks parsers (nested sub-commands included) and lists
what breaks the vocabulary: an action without help, an old name used as the main one, a
declared alias missing, an undeclared second name, the same option a flag here and a value
there. `tests/banc/test_cli_vocabulary.py` runs it on `banc` and on every mock's `__main__`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    name: str
    meaning: str
    aliases: tuple[str, ...] = ()
    takes_value: bool | None = None
    """Options only: True when the option is followed by a value, False for a flag."""
    metavar: str | None = None
    """Options with a value: how the help names it."""


OPTION_TERMS: dict[str, Term] = {term.name: term for term in (
    Term("--sortie", "fichier ou dossier où écrire le résultat", ("--out",), True, "FICHIER"),
    Term("--graine", "graine des données générées (mêmes données pour la même graine)", ("--seed",), True, "N"),
    Term("--donnees", "dossier des données des simulateurs (défaut : cache utilisateur)", ("--data",), True, "DOSSIER"),
    Term("--journal", "base du journal des échanges (défaut : cache utilisateur)", ("--db",), True, "FICHIER"),
    Term("--pki", "dossier de la PKI de test (défaut : cache utilisateur)", ("--dir",), True, "DOSSIER"),
    Term("--sans-tls", "HTTP sans TLS, pour une démonstration seulement", ("--insecure", "--http"), False),
    Term("--ports-ephemeres", "ports choisis par le système (tests)", ("--ephemeral-ports",), False),
    Term("--url", "adresse du service", ("--serveur", "--emetteur"), True, "URL"),
    Term("--generees", "nombre d'identités générées", ("--generes",), True, "N"),
    Term("--json", "afficher le résultat au format JSON", (), False),
    Term("--brut", "écrire les octets bruts d'un message", ("--raw",), True),
    Term("--fiche", "fiche de configuration du banc (JSON)", (), True, "FICHIER"),
    Term("--processus", "nombre de processus de validation en parallèle", ("--jobs",), True, "N"),
    Term("--pilote", "comment faire agir le DUI : manual (opérateur), http (pilotage), reference",
         ("--driver",), True, "PILOTE"),
    Term("--ecoute", "port où l'enregistreur écoute", ("--listen",), True, "PORT"),
    Term("--amont", "adresse du service réel derrière l'enregistreur (sans elle : mandataire direct)",
         ("--upstream",), True, "URL"),
)}

COMMAND_TERMS: dict[str, Term] = {term.name: term for term in (
    Term("demarrer", "démarrer les services simulés", ("up",)),
    Term("jouer", "jouer un scénario contre le DUI", ("run",)),
    Term("executions", "lister les exécutions passées", ("runs",)),
    Term("rapport", "écrire le rapport d'une exécution"),
    Term("dui", "décrire le DUI testé"),
    Term("valider", "valider des documents CDA", ("validate",)),
    Term("service", "service de validation local"),
    Term("sessions", "lister les sessions du journal"),
    Term("liste", "lister", ("list",)),
    Term("voir", "afficher un élément", ("show",)),
    Term("installer", "installer", ("install",)),
    Term("initialiser", "initialiser", ("init",)),
    Term("demo", "démonstration"),
    Term("capture", "enregistrer et juger le trafic réel d'un DUI"),
    Term("importer", "importer une capture dans le journal", ("import",)),
)}

ALIASES: dict[str, str] = {
    alias: term.name for terms in (OPTION_TERMS, COMMAND_TERMS) for term in terms.values()
    for alias in term.aliases
}
"""Old or English name → canonical name (options start with `--`, commands do not)."""


def option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, name: str,
           **kwargs: object) -> argparse.Action:
    """Add the vocabulary option `name` with its aliases; its meaning is the default help."""
    term = OPTION_TERMS[name]
    kwargs.setdefault("help", term.meaning)
    if term.takes_value is False:
        kwargs.setdefault("action", "store_true")
    elif term.metavar:
        kwargs.setdefault("metavar", term.metavar)
    return parser.add_argument(name, *term.aliases, **kwargs)  # type: ignore[arg-type]


def command(subparsers: argparse._SubParsersAction, name: str, **kwargs: object) -> argparse.ArgumentParser:
    """Add the sub-command `name` with the aliases the vocabulary declares for it."""
    term = COMMAND_TERMS.get(name)
    return subparsers.add_parser(name, aliases=list(term.aliases) if term else [], **kwargs)


def _walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from _walk(child)


def _command_problems(action: argparse._SubParsersAction, prog: str) -> list[str]:
    names: dict[int, list[str]] = {}
    for name, child in action.choices.items():
        names.setdefault(id(child), []).append(name)
    helped = {choice.dest for choice in action._choices_actions if choice.help}
    found = []
    for primary, *aliases in names.values():
        where = f"{prog} {primary}"
        if primary in ALIASES:
            found.append(f"{where} : ancien nom, la commande s'appelle « {ALIASES[primary]} »"
                         f" (« {primary} » en alias)")
        if primary not in helped:
            found.append(f"{where} : commande sans aide")
        declared = COMMAND_TERMS[primary].aliases if primary in COMMAND_TERMS else ()
        found += [f"{where} : alias « {a} » manquant" for a in declared if a not in aliases]
        found += [f"{where} : alias « {a} » non déclaré dans le vocabulaire"
                  for a in aliases if a not in declared]
    return found


def _option_problems(action: argparse.Action, prog: str) -> list[str]:
    longs = [s for s in action.option_strings if s.startswith("--")]
    if not longs:
        return []
    where, primary = f"{prog} {longs[0]}", longs[0]
    found = []
    if primary in ALIASES:
        found.append(f"{where} : ancien nom, l'option s'appelle « {ALIASES[primary]} »")
    term = OPTION_TERMS.get(primary)
    declared = term.aliases if term else ()
    found += [f"{where} : alias « {a} » manquant" for a in declared if a not in longs]
    found += [f"{where} : second nom « {a} » non déclaré dans le vocabulaire"
              for a in longs[1:] if a not in declared]
    if term and term.takes_value is not None and (action.nargs != 0) != term.takes_value:
        found.append(f"{where} : {'attend une valeur' if term.takes_value else 'est un drapeau'} "
                     f"dans le vocabulaire ({term.meaning})")
    return found


def parser_problems(root: argparse.ArgumentParser, *, nested: bool = True) -> list[str]:
    """What breaks the vocabulary in this parser and (when `nested`) its sub-commands."""
    found: list[str] = []
    for parser in _walk(root) if nested else [root]:
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue
            if isinstance(action, argparse._SubParsersAction):
                found += _command_problems(action, parser.prog)
                continue
            if not action.help:
                label = action.option_strings[0] if action.option_strings else action.metavar or action.dest
                found.append(f"{parser.prog} {label} : sans aide")
            found += _option_problems(action, parser.prog)
    return found


def name_clashes(*roots: argparse.ArgumentParser) -> list[str]:
    """Option names that are a flag in one command and take a value in another."""
    kinds: dict[str, dict[bool, str]] = {}
    for root in roots:
        for parser in _walk(root):
            for action in parser._actions:
                for name in action.option_strings:
                    kinds.setdefault(name, {}).setdefault(action.nargs != 0, parser.prog)
    return [f"{name} : attend une valeur dans « {seen[True]} » mais est un drapeau dans "
            f"« {seen[False]} » (un nom, un sens)"
            for name, seen in sorted(kinds.items()) if len(seen) > 1]


def problems(*roots: argparse.ArgumentParser) -> list[str]:
    """Everything in these parsers (and their sub-commands) that breaks the vocabulary."""
    return [p for root in roots for p in parser_problems(root)] + name_clashes(*roots)
