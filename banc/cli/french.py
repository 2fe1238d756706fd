"""argparse in French: section titles, usage line, `--help` text and error lines.

argparse takes its own words from `gettext` with the process's locale, which on most machines
(and in every CI) gives English. Rather than installing a message catalogue, `FrenchParser`
sets its titles itself and translates the few error templates argparse can produce (matched
by pattern, so the values inside them are kept). Sub-parsers inherit the class
(`add_subparsers` defaults `parser_class` to the parent's class), so every command registered
through `banc.cli.build_parser` — and every mock's `__main__` parser built with it — speaks
French without doing anything.

Declared aliases (old or English names, see `banc.cli.vocabulary`) keep working but are left
out of the help, so that the help shows one name per meaning.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

from banc.cli.vocabulary import ALIASES

USAGE_PREFIX = "utilisation : "

_TYPE_NAMES = {"int": "entier", "float": "nombre", "Path": "chemin"}

_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"the following arguments are required: (?P<a>.*)"), "arguments obligatoires manquants : {a}"),
    (re.compile(r"unrecognized arguments: (?P<a>.*)"), "arguments non reconnus : {a}"),
    (re.compile(r"invalid choice: (?P<v>.*) \(choose from (?P<c>.*)\)"), "choix invalide : {v} (possibles : {c})"),
    (re.compile(r"invalid (?P<t>\S+) value: (?P<v>.*)"), "valeur invalide ({t} attendu) : {v}"),
    (re.compile(r"expected one argument"), "une valeur attendue"),
    (re.compile(r"expected at most one argument"), "au plus une valeur attendue"),
    (re.compile(r"expected at least one argument"), "au moins une valeur attendue"),
    (re.compile(r"expected (?P<n>\d+) arguments?"), "{n} valeur(s) attendue(s)"),
    (re.compile(r"ambiguous option: (?P<o>\S+) could match (?P<m>.*)"), "option ambiguë : {o} peut désigner {m}"),
    (re.compile(r"not allowed with argument (?P<a>.*)"), "incompatible avec l'argument {a}"),
    (re.compile(r"one of the arguments (?P<a>.*) is required"), "l'un des arguments {a} est obligatoire"),
    (re.compile(r"ignored explicit argument (?P<a>.*)"), "valeur inattendue ignorée : {a}"),
    (re.compile(r"unknown parser (?P<p>.*) \(choices: (?P<c>.*)\)"), "commande inconnue : {p} (possibles : {c})"),
    (re.compile(r"unexpected option string: (?P<o>.*)"), "option inattendue : {o}"),
]
_ARGUMENT = re.compile(r"argument (?P<name>[^:]+): (?P<rest>.*)", re.DOTALL)


def translate_error(message: str) -> str:
    """The French form of an argparse error message (unknown messages are returned as is)."""
    nested = _ARGUMENT.fullmatch(message)
    if nested:
        return f"argument {nested['name']} : {translate_error(nested['rest'])}"
    for pattern, template in _ERRORS:
        found = pattern.fullmatch(message)
        if found:
            values = found.groupdict()
            if "t" in values:
                values["t"] = _TYPE_NAMES.get(values["t"], values["t"])
            return template.format(**values)
    return message


class FrenchFormatter(argparse.HelpFormatter):
    """French usage prefix; declared option aliases left out of the help."""

    def add_usage(self, usage, actions, groups, prefix=None) -> None:  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, USAGE_PREFIX if prefix is None else prefix)

    def start_section(self, heading: str | None) -> None:
        """French typography: a space before the colon argparse appends to each title."""
        super().start_section(f"{heading} " if heading else heading)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings:
            return super()._format_action_invocation(action)
        shown = [s for s in action.option_strings if s not in ALIASES] or action.option_strings[:1]
        if action.nargs == 0:
            return ", ".join(shown)
        value = self._format_args(action, self._get_default_metavar_for_optional(action))
        return ", ".join(f"{option} {value}" for option in shown)


class FrenchSubParsers(argparse._SubParsersAction):
    """Sub-commands whose declared aliases (`up` for `demarrer`…) work but stay out of the help."""

    def add_parser(self, name: str, **kwargs):  # type: ignore[no-untyped-def]
        parser = super().add_parser(name, **kwargs)
        if kwargs.get("help") is not None and self._choices_actions:
            self._choices_actions[-1].metavar = name
        return parser


class FrenchParser(argparse.ArgumentParser):
    """An ArgumentParser whose every word the user sees is French."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("formatter_class", FrenchFormatter)
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", FrenchSubParsers)
        self._positionals.title = "arguments positionnels"
        self._optionals.title = "options"
        for action in self._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = "afficher cette aide et quitter"

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {translate_error(message)}\n")
