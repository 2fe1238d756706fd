"""Facts of the IHE XDM archives attached to a message: the CDA documents with their patient,
and the archive's own findings (`banc.xdm`: safe reading, layout, metadata ↔ CDA)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from banc.identity import IdentityError, parse_xds_patient_id
from banc.mail.message import Attachment
from banc.xdm import XdmError, check_xdm, read_xdm
from banc.xds.derive import header_facts
from banc.xml import XmlInputError, parse_untrusted

if TYPE_CHECKING:
    from banc.mail.health import HealthFacts


def _ins_of(patient_id: str) -> str | None:
    try:
        return parse_xds_patient_id("^".join(patient_id.split("^")[:5]))[0]
    except (IdentityError, ValueError):
        return None


def read_archive(attachment: Attachment, facts: HealthFacts) -> None:
    """Add what the archive holds to `facts`; a refused archive adds one finding."""
    from banc.mail.health import DocumentFacts, finding

    name = attachment.filename or "IHE_XDM.ZIP"
    try:
        package = read_xdm(attachment.payload)
    except XdmError as exc:
        facts.findings.append(finding(f"XDM.{exc.code.upper().replace('-', '_')}",
                                      f"{name} refusée : {exc.message}", name))
        return
    facts.findings.extend(check_xdm(package))
    for subset in package.subsets:
        if subset.submission is None:
            continue
        set_patient = _ins_of(subset.submission.submission_set.patient_id)
        if set_patient:
            facts.metadata_patients.add(set_patient)
        for entry in subset.submission.documents:
            meta_patient = _ins_of(entry.patient_id)
            if meta_patient:
                facts.metadata_patients.add(meta_patient)
            content = next((v for k, v in subset.files.items() if k.upper() == (entry.uri or "").upper()), None)
            if content is None or entry.mime_type != "text/xml":
                continue
            source = f"{name}/IHE_XDM/{subset.name}/{entry.uri}"
            try:
                root = parse_untrusted(content, what=entry.uri)
            except XmlInputError:
                continue  # already reported by check_xdm (XDM-DOCUMENT-XML)
            header = header_facts(root)
            facts.documents.append(DocumentFacts(
                source=source, root=root,
                code=header.type_code.code if header.type_code else "",
                title=header.title, ins=header.ins, ins_oid=header.ins_oid,
                family=header.patient_family, given=header.patient_given,
                birth_time=header.birth_time, sex=header.sex, metadata_patient=meta_patient,
                document_id=header.unique_id, set_id=header.set_id, version=header.version,
                replaces=header.replaced_ids,
                author_organisations=tuple(
                    o.id for a in header.authors for o in a.institutions if o.id
                ),
            ))
