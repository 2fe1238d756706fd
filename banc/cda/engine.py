"""The validation engine: XSD + official profiles + volet + our rule sets + N1 checks.

One `Engine` per process holds the Saxon processor, the compiled stylesheets (warm) and the
XSD. The document is parsed once (hardened, lxml), its XDM tree is built once and given to
every stylesheet. Saxon calls are serialised by a lock: a `PyXsltExecutable` is not
thread-safe, and the request handlers of the mocks call this from several threads.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from banc.cda import n1
from banc.cda.compiler import (
    SKIP_PARAM,
    CompileError,
    RuleSetMeta,
    compile_schematron,
    compiled_path,
)
from banc.cda.package import AnsPackage, WorkTree, find_package
from banc.cda.rulesets import HL7, PROFILES, Header, OwnRuleSet, choose_volet, own_rulesets
from banc.paths import OWN_SCHEMATRONS, cache_dir
from banc.verdict import Finding, NotEvaluated, Severity, Verdict
from banc.xml import XmlInputError, parse_trusted_file, parse_untrusted, read_untrusted_file

SVRL = "http://purl.oclc.org/dsdl/svrl"
INPUT_RULESET = "entrée"
_WARNING_ROLES = {"warning", "warn"}
_INFO_ROLES = {"info", "information"}


@dataclass
class Compiled:
    name: str
    executable: object  # saxonche.PyXsltExecutable
    meta: RuleSetMeta
    requirements_default: tuple[str, ...] = ()


def input_verdict(subject: str, message: str, code: str = "input") -> Verdict:
    """The verdict of input that is not a CDA document (empty, not XML, DOCTYPE, too large…)."""
    return Verdict(
        subject,
        [Finding(rule_id=code, message=message, ruleset=INPUT_RULESET)],
        details={"input_error": True},
    )


def _severity(role: str | None) -> Severity:
    role = (role or "").strip().lower()
    if role in _WARNING_ROLES:
        return Severity.WARNING
    if role in _INFO_ROLES:
        return Severity.INFO
    return Severity.ERROR


def _text(element: etree._Element) -> str:
    node = element.find(f"{{{SVRL}}}text")
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


class Engine:
    def __init__(self, package: AnsPackage | None = None, own_folder: Path = OWN_SCHEMATRONS):
        import saxonche

        self.package = package or find_package()
        self.work: WorkTree = self.package.work_tree()
        self.own_folder = own_folder
        self._processor = saxonche.PySaxonProcessor(license=False)
        self._xslt = self._processor.new_xslt30_processor()
        self._lock = threading.RLock()
        self._compiled: dict[str, Compiled] = {}
        self._failed: dict[str, str] = {}
        self._xsd: etree.XMLSchema | None = None
        self.warnings: list[str] = list(self.work.warnings)
        self.compile_times: dict[str, float] = {}
        self._own_root: Path | None = None
        self.volets: set[str] = {p.stem for p in self.work.schematrons.glob("CI-SIS_*.sch")}

    # --- compilation ------------------------------------------------------------------------

    def _own_tree(self) -> Path:
        """Our rule sets copied into the cache (compiled forms never go into the repository).

        Computed once per engine: the content hash reads every file of `schematrons/`.
        """
        if self._own_root is None:
            self._own_root = self._copy_own()
        return self._own_root

    def _copy_own(self) -> Path:
        digest = hashlib.sha256(self.package.content_key().encode())
        for path in sorted(self.own_folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(self.own_folder).as_posix().encode())
                digest.update(path.read_bytes())
        target = cache_dir() / "own" / digest.hexdigest()[:16]
        if not target.exists():
            staging = target.with_name(target.name + f".{threading.get_ident()}.tmp")
            shutil.copytree(self.own_folder, staging, ignore=shutil.ignore_patterns("__pycache__"))
            try:
                staging.rename(target)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def _compile(self, name: str, sch: Path, missing: list[str]) -> Compiled:
        with self._lock:
            if name in self._compiled:
                return self._compiled[name]
            if name in self._failed:
                raise CompileError(self._failed[name])
            start = time.perf_counter()
            try:
                if not sch.exists():
                    raise CompileError(f"schématron {sch.name} absent du paquet")
                meta = compile_schematron(
                    self._processor, self.work.schematrons / "moteur", sch, missing
                )
                executable = self._xslt.compile_stylesheet(stylesheet_file=str(compiled_path(sch)))
                for param, path in meta.preloaded.items():
                    executable.set_parameter(param, self._processor.parse_xml(xml_file_name=path))
            except CompileError as exc:
                self._failed[name] = str(exc)
                raise
            except Exception as exc:  # PySaxonApiError
                self._failed[name] = f"le schématron {sch.name} ne compile pas : {exc}"
                raise CompileError(self._failed[name]) from None
            self.compile_times[name] = time.perf_counter() - start
            compiled = Compiled(name, executable, meta)
            self._compiled[name] = compiled
            return compiled

    def profile(self, name: str) -> Compiled:
        rel = PROFILES[name]
        return self._compile(name, self.work.schematrons / rel, self.work.missing.get(f"schematrons/{rel}", []))

    def volet(self, stem: str) -> Compiled:
        rel = f"{stem}.sch"
        if stem not in self.volets:
            raise CompileError(f"volet inconnu : {stem} (absent du dossier schematrons du paquet)")
        return self._compile(stem, self.work.schematrons / rel, self.work.missing.get(f"schematrons/{rel}", []))

    def own(self, ruleset: OwnRuleSet) -> Compiled:
        tree = self._own_tree()
        return self._compile(ruleset.name, tree / ruleset.schematron.relative_to(self.own_folder), [])

    def own_rulesets(self) -> tuple[OwnRuleSet, ...]:
        return own_rulesets(self.own_folder)

    def xsd(self) -> etree.XMLSchema:
        with self._lock:
            if self._xsd is None:
                self._xsd = etree.XMLSchema(parse_trusted_file(str(self.package.xsd)))
            return self._xsd

    def warm(self, volets: list[str] | None = None) -> Engine:
        """Compile the profiles, our rule sets and the given volets now rather than on first use."""
        self.xsd()
        for name in PROFILES:
            self.profile(name)
        for ruleset in self.own_rulesets():
            self.own(ruleset)
        for stem in volets or ():
            self.volet(stem)
        return self

    # --- validation -------------------------------------------------------------------------

    def validate(self, data: bytes | Path, *, volet: str | None = None, subject: str = "",
                 svrl: bool = False) -> Verdict:
        """`svrl`: keep each rule set's raw SVRL report in `details["svrl"]` (name → XML text),
        for the evidence pack; off by default (a report weighs more than its findings)."""
        try:
            if isinstance(data, Path):
                subject = subject or str(data)
                data = read_untrusted_file(data, what=subject)
            root = parse_untrusted(data, what=subject or "le document")
        except XmlInputError as exc:
            return input_verdict(subject, str(exc), exc.code)
        return self.validate_root(root, volet=volet, subject=subject, svrl=svrl)

    def validate_root(self, root: etree._Element, *, volet: str | None = None, subject: str = "",
                      svrl: bool = False) -> Verdict:
        documents = self._clinical_documents(root)
        if not documents:
            return input_verdict(
                subject,
                f"{subject or 'le document'} n'est pas un document CDA (élément racine "
                f"« {etree.QName(root).localname} », attendu ClinicalDocument de urn:hl7-org:v3)",
                "not-cda",
            )
        if len(documents) > 1:
            return input_verdict(
                subject,
                f"{subject or 'le document'} contient {len(documents)} éléments ClinicalDocument : un fichier "
                "porte un seul document CDA (les autres ne seraient pas jugés)",
                "several-cda",
            )
        document = documents[0]
        verdict = Verdict(subject)
        timings: dict[str, float] = {}
        header = Header.of(document)
        start = time.perf_counter()
        xsd = self.xsd()
        with self._lock:
            valid = xsd.validate(document)
            errors = list(xsd.error_log) if not valid else []
        verdict.extend(
            Finding(rule_id="xsd", message=f"XSD : {e.message}", location=f"ligne {e.line}", ruleset="xsd")
            for e in errors
        )
        timings["xsd"] = (time.perf_counter() - start) * 1000
        rulesets: list[tuple[str, Compiled | None, str]] = []
        choice = choose_volet(header, self.volets)
        if volet:
            declared = f" ; le document déclare la version {choice.declared}" if choice.declared else ""
            choice_name, reason = volet.removesuffix(".sch"), f"volet imposé (--volet){declared}"
        else:
            choice_name, reason = choice.schematron, choice.reason
        verdict.details.update(volet=choice_name, volet_reason=reason, volet_declared=choice.declared)
        if choice_name is None:
            verdict.not_evaluated.append(NotEvaluated("volet", reason))
        names = [*PROFILES, *([choice_name] if choice_name else [])]
        for name in names:
            try:
                compiled = self.profile(name) if name in PROFILES else self.volet(name)
                rulesets.append((name, compiled, ""))
            except CompileError as exc:
                rulesets.append((name, None, str(exc)))
        for own in self.own_rulesets():
            if own.applies(header):
                try:
                    rulesets.append((own.name, self.own(own), ""))
                except CompileError as exc:
                    rulesets.append((own.name, None, str(exc)))
        text = etree.tostring(document, encoding="unicode")
        roots = {r for r in document.xpath("//*[local-name()='templateId']/@root")}
        reports: dict[str, str] = {}
        with self._lock:
            node = self._processor.parse_xml(xml_text=text)
            for name, compiled, error in rulesets:
                if compiled is None:
                    verdict.not_evaluated.append(NotEvaluated(name, error))
                    continue
                start = time.perf_counter()
                if compiled.meta.gates:
                    skip = " " + " ".join(compiled.meta.skipped(roots)) + " "
                    compiled.executable.set_parameter(SKIP_PARAM, self._processor.make_string_value(skip))
                try:
                    report = compiled.executable.transform_to_string(xdm_node=node)
                except Exception as exc:  # PySaxonApiError: a dynamic error in the rules
                    verdict.not_evaluated.append(
                        NotEvaluated(name, f"erreur d'exécution des règles : {' '.join(str(exc).split())}")
                    )
                    continue
                finally:
                    timings[name] = (time.perf_counter() - start) * 1000
                self._collect(verdict, name, compiled.meta, report)
                if svrl:
                    reports[name] = report
        if header.non_xml_body:
            start = time.perf_counter()
            verdict.extend(n1.check_n1(document))
            timings["n1"] = (time.perf_counter() - start) * 1000
        verdict.details["rulesets"] = ["xsd", *(name for name, compiled, _ in rulesets if compiled)]
        verdict.details["timings_ms"] = {k: round(v, 2) for k, v in timings.items()}
        if svrl:
            verdict.details["svrl"] = reports
        return verdict

    @staticmethod
    def _clinical_documents(root: etree._Element) -> list[etree._Element]:
        """Every ClinicalDocument (the root, or inside a signed / self-presenting wrapper).

        More than one is refused rather than judging the first: the others would pass unseen.
        """
        return list(root.iter(f"{{{HL7}}}ClinicalDocument"))

    @staticmethod
    def _collect(verdict: Verdict, name: str, meta: RuleSetMeta, svrl: str) -> None:
        report = etree.fromstring(svrl.encode("utf-8"))
        pattern = ""
        for element in report:
            tag = etree.QName(element).localname
            if tag == "active-pattern":
                pattern = element.get("id") or element.get("name") or ""
                continue
            if tag not in ("failed-assert", "successful-report"):
                continue
            message = _text(element)
            location = element.get("location", "")
            if pattern in meta.degraded_patterns:
                missing = ", ".join(meta.degraded_patterns[pattern])
                verdict.not_evaluated.append(
                    NotEvaluated(name, f"règle {pattern} ({location}) non évaluée : jeu de valeurs absent {missing}")
                )
                continue
            rule_id = element.get("id") or pattern or name
            verdict.findings.append(
                Finding(
                    rule_id=rule_id,
                    message=message,
                    severity=_severity(element.get("role")),
                    location=location,
                    ruleset=name,
                    requirements=tuple(meta.requirements.get(rule_id, ())),
                )
            )
        if meta.missing_includes:
            verdict.not_evaluated.append(
                NotEvaluated(name, "inclusions absentes du paquet, règles non évaluées : " + ", ".join(meta.missing_includes))
            )
