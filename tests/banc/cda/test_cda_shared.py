"""The mocks' shared validation: same verdict through the service as in-process, a fallback
that still judges, and "non évalué" (never a pass) when nothing can validate."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import banc.cda
from banc.cda import service
from banc.cda.engine import Engine
from banc.cda.service import ServiceError
from banc.cda.shared import IN_PROCESS, SERVICE, Validation
from banc.mail.compose import HealthMessage
from banc.mail.health import check_health_message
from banc.mail.message import parse_mail
from banc.population import cnam_test_identities
from banc.xml import parse_untrusted
from simulators.dmp_mock.client import minimal_cda

pytestmark = [pytest.mark.slow, pytest.mark.reference]


def _document() -> bytes:
    """A CDA whose root is on line 4 and which the XSD refuses (an unknown element)."""
    cda = minimal_cda(cnam_test_identities()[1].ins).decode("utf-8")
    head, _, rest = cda.partition("<ClinicalDocument")
    tag, _, body = rest.partition(">")
    return (f"{head}<!-- ligne 2 -->\n<!-- ligne 3 -->\n<ClinicalDocument{tag}>\n  <inconnu/>{body}").encode()


@pytest.fixture
def served(cda_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A validation service (this engine, in a thread) in an empty user cache."""
    monkeypatch.setenv("BANC_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(banc.cda, "_engine", cda_engine)
    thread = threading.Thread(target=service.serve, kwargs={"engine": cda_engine, "idle": 120.0}, daemon=True)
    thread.start()
    client = service.Client(cda_engine.package)
    for _ in range(300):
        if (state := client._read_state()) and client._alive(state):
            break
        thread.join(0.1)
    yield client
    client.stop()
    thread.join(10)


def test_service_verdict_is_the_in_process_one(served, cda_engine: Engine) -> None:
    root = parse_untrusted(_document())
    assert root.sourceline == 4
    local = cda_engine.validate_root(root, subject="doc")
    validation = Validation(SERVICE).start()
    remote = validation.validate_root(root, subject="doc")
    assert validation.where == SERVICE and not validation.started_service  # the running one, reused
    xsd = [f for f in remote.findings if f.ruleset == "xsd"]
    assert xsd and all(f.location for f in xsd)
    assert [f.to_dict() for f in remote.findings] == [f.to_dict() for f in local.findings]
    assert "prête (réutilisé : service de validation pid" in validation.describe()


def test_a_service_gone_for_good_leaves_documents_judged_here(
    served, cda_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = parse_untrusted(_document())
    validation = Validation(SERVICE).start()
    assert validation.validate_root(root).findings and validation.where == SERVICE
    assert served.stop()

    def cannot_start(self, on_wait=None):
        raise ServiceError("le service de validation n'a pas démarré (refus simulé)")

    monkeypatch.setattr(service.Client, "ensure", cannot_start)
    verdict = validation.validate_root(root, subject="doc")
    assert [f.to_dict() for f in verdict.findings] == [f.to_dict() for f in cda_engine.validate_root(root).findings]
    assert validation.where == IN_PROCESS and "refus simulé" in validation.reason
    assert "validation CDA désormais dans ce processus" in capsys.readouterr().err
    assert "prête, dans ce processus ; service non utilisé : " in validation.describe()


def test_no_service_at_start_falls_back_to_this_process(
    cda_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(banc.cda, "_engine", cda_engine)

    def cannot_start(self, on_wait=None):
        raise ServiceError("le service de validation n'a pas démarré (refus simulé)")

    monkeypatch.setattr(service.Client, "ensure", cannot_start)
    validation = Validation(SERVICE).start()
    verdict = validation.validate_root(parse_untrusted(_document()))
    assert "xsd" in {f.ruleset for f in verdict.findings}
    assert validation.where == IN_PROCESS and "refus simulé" in validation.reason


def test_without_a_package_the_cda_is_not_evaluated_never_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from banc.cda.package import ENV_VAR

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent"))
    validation = Validation(SERVICE).start()
    cda = minimal_cda(cnam_test_identities()[1].ins)
    verdict = validation.validate_root(parse_untrusted(cda), subject="doc.xml")
    assert not verdict.findings and verdict.not_evaluated
    assert "validation CDA indisponible" in verdict.not_evaluated[0].reason
    assert "indisponible" in validation.describe() and "non évalué" in validation.describe()
    recipient = "helene.vidal@medecin.mssante.fr"
    raw = HealthMessage(sender="secretariat@ssiad-val-de-morge.mssante.fr", recipients=[recipient], cda=cda).build()
    findings = check_health_message(parse_mail(raw), [recipient], validate_cda=validation.validate_root)
    assert "MSS.CDA.NOT_EVALUATED" in {f.rule_id for f in findings}
