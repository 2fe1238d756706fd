"""A small, self-contained CDA R2 header (N1 body) for mail tests: enough for the XDS
derivation and the MSSanté checks, with the patient's INS and traits as parameters."""

from __future__ import annotations

import base64

from banc.identity import OID_INS_NIR_TEST, nir_key

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <templateId root="1.3.6.1.4.1.19376.1.2.20"/>
  <id root="1.2.250.1.213.1.1.9" extension="{doc_id}"/>
  <code code="{code}" codeSystem="2.16.840.1.113883.6.1" displayName="{title}"/>
  <title>{title}</title>
  <effectiveTime value="20240105101500+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <setId root="1.2.250.1.213.1.1.9" extension="{set_id}"/>
  <versionNumber value="{version}"/>
  <recordTarget><patientRole>
    {patient_ids}
    <patient>
      <name>{family_el}{given_el}</name>
      {sex_el}
      {birth_el}
    </patient>
  </patientRole></recordTarget>
  <author><time value="20240105101500+0100"/><assignedAuthor>
    <id root="1.2.250.1.71.4.2.1" extension="899900000011"/>
    <code code="10" codeSystem="1.2.250.1.71.1.2.7" displayName="Médecin"/>
    <assignedPerson><name><family>VIDAL</family><given>Hélène</given></name></assignedPerson>
    <representedOrganization><id root="1.2.250.1.71.4.2.2" extension="{author_org}"/><name>Cabinet Vidal</name></representedOrganization>
  </assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization>
    <id root="1.2.250.1.71.4.2.2" extension="1630000014"/><name>Cabinet Vidal</name>
  </representedCustodianOrganization></assignedCustodian></custodian>
  <legalAuthenticator><time value="20240105101500+0100"/><signatureCode code="S"/><assignedEntity>
    <id root="1.2.250.1.71.4.2.1" extension="899900000011"/>
    <assignedPerson><name><family>VIDAL</family><given>Hélène</given></name></assignedPerson>
  </assignedEntity></legalAuthenticator>
  <documentationOf><serviceEvent>
    <effectiveTime><low value="20240105"/><high value="20240105"/></effectiveTime>
    <performer typeCode="PRF"><assignedEntity>
      <id root="1.2.250.1.71.4.2.1" extension="899900000011"/>
      <representedOrganization><standardIndustryClassCode code="ETABLISSEMENT" codeSystem="1.2.250.1.213.1.1.4.9" displayName="Etablissement de santé"/></representedOrganization>
    </assignedEntity></performer>
  </serviceEvent></documentationOf>
  {related}
  <componentOf><encompassingEncounter>
    <effectiveTime><low value="20240105"/></effectiveTime>
    <location><healthCareFacility><code code="SA07" codeSystem="1.2.250.1.71.4.2.4" displayName="Cabinet individuel"/></healthCareFacility></location>
  </encompassingEncounter></componentOf>
  <component><nonXMLBody><text mediaType="application/pdf" representation="B64">{pdf}</text></nonXMLBody></component>
</ClinicalDocument>
"""


def make_ins(sequence: int = 1) -> str:
    """A valid test INS (NIR with its key), different for each sequence number."""
    matricule = f"2790363220{sequence:03d}"
    return matricule + nir_key(matricule)


def make_cda(
    ins: str | None = "279036322000141",
    *,
    family: str = "DURAND",
    given: str = "Jeanne",
    birth: str = "19790328",
    sex: str = "F",
    code: str = "11490-0",
    title: str = "Lettre de liaison à la sortie",
    oid: str = OID_INS_NIR_TEST,
    doc_id: str = "DOC-1",
    set_id: str | None = None,
    version: int = 1,
    replaces: str | None = None,
    author_org: str = "1630000014",
) -> bytes:
    ids = '<id root="1.2.250.1.213.1.4.2" extension="IPP-123"/>'
    if ins:
        ids = f'<id root="{oid}" extension="{ins}"/>' + ids
    return TEMPLATE.format(
        doc_id=doc_id, code=code, title=title, patient_ids=ids, set_id=set_id or f"{doc_id}-set",
        version=version, author_org=author_org,
        related=(f'<relatedDocument typeCode="RPLC"><parentDocument><id root="1.2.250.1.213.1.1.9" '
                 f'extension="{replaces}"/></parentDocument></relatedDocument>' if replaces else ""),
        family_el=f'<family qualifier="BR">{family}</family>' if family else "",
        given_el=f'<given qualifier="BR">{given}</given>' if given else "",
        sex_el=f'<administrativeGenderCode code="{sex}" codeSystem="2.16.840.1.113883.5.1"/>' if sex else "",
        birth_el=f'<birthTime value="{birth}"/>' if birth else "",
        pdf=base64.b64encode(b"%PDF-1.4 placeholder").decode(),
    ).encode("utf-8")


DUI = "secretariat@ssiad-val-de-morge.mssante.fr"
"""The DUI's organisational mailbox in the seeded directory."""

DUI_APP = "dui@ssiad-val-de-morge.mssante.fr"
"""The DUI's application mailbox (certificate CN BAL-APPLICATIVE-SSIAD, PKI profile `mss-app`)."""

HOSPITAL = "medecine.geriatrique@ch-riom-limagne.mssante.fr"
GP = "helene.vidal@medecin.mssante.fr"


def pdfa() -> bytes:
    """A small PDF/A-1b made by the document factory's PDF module."""
    from banc.documents.pdf import PageContent, render_page, to_pdfa1

    page = PageContent(title="Lettre de liaison", organisation="Cabinet Vidal", author="Dr Vidal",
                       identity_lines=("DURAND Jeanne",), paragraphs=(("Objet", "Sortie."),))
    return to_pdfa1(render_page(page), title="Lettre de liaison", author="Dr Vidal")


def set_header(raw: bytes, name: str, value: str | bytes | None) -> bytes:
    """Replace (or remove, with None; or add) one header of a raw message, byte-exact."""
    import re

    head, sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    eol = b"\r\n" if sep == b"\r\n\r\n" else b"\n"
    pattern = re.compile(rb"^" + re.escape(name.encode()) + rb":.*(?:" + re.escape(eol) + rb"[ \t].*)*$",
                         re.IGNORECASE | re.MULTILINE)
    head = pattern.sub(b"", head)
    head = re.sub(re.escape(eol) + rb"{2,}", eol, head).strip(b"\r\n")
    if value is not None:
        encoded = value if isinstance(value, bytes) else value.encode()
        head += eol + name.encode() + b": " + encoded
    return head + sep + body
