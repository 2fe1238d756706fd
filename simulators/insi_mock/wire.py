"""INSi messages on the wire: parse requests, build RESULTAT answers. No decisions here.

Names and namespaces follow the CNAM WSDL `DESIR_ICIR_EXP_1.5.0.wsdl` and its XSDs. The XSDs
themselves are read from the reference folder at run time (never copied into the project);
`InsiSchemas` compiles them once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from banc.paths import reference_path
from banc.soap import (
    SOAP12_NS,
    WSA_NS,
    Addressing,
    Envelope,
    content_type_action,
    new_message_id,
    read_addressing,
)
from banc.soap.offline import known_schema_files

RECSANS_NS = "http://www.cnamts.fr/INSiRecSans"
RECVIT_NS = "http://www.cnamts.fr/INSiRecVit"
RESULTAT_NS = "http://www.cnamts.fr/INSiResultat"
CTXLPS_NS = "urn:siram:lps:ctxlps"
CTXBAM_NS = "urn:siram:bam:ctxbam"
SIRAM_NS = "urn:siram"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"

ACTION_PREFIX = "urn:ServiceIdentiteCertifiee:1.0.0:"
OP_TRAITS = "rechercherInsAvecTraitsIdentite"
OP_VITALE = "rechercherInsAvecCarteVitale"
OPERATIONS = {
    f"{ACTION_PREFIX}{OP_TRAITS}": (OP_TRAITS, f"{{{RECSANS_NS}}}RECSANSVITALE"),
    f"{ACTION_PREFIX}{OP_VITALE}": (OP_VITALE, f"{{{RECVIT_NS}}}RECVITALE"),
}
"""wsa:Action → (operation, expected body element)."""

PAYLOAD_OPERATIONS = {tag: op for op, tag in OPERATIONS.values()}
_RECSANSVITALE = f"{{{RECSANS_NS}}}RECSANSVITALE"
_RECVITALE = f"{{{RECVIT_NS}}}RECVITALE"
_PRENOM = f"{{{RECSANS_NS}}}Prenom"

CR_LABELS = {
    "00": "OK",
    "01": "Aucune identite trouvee",
    "02": "Plusieurs identites trouvees",  # (?) wording not seen in a capture
}


def fields(element: etree._Element | None) -> dict[str, str]:
    """Local-name paths ('LPS/IDAM') → text as sent, and 'LPS/IDAM/@R' → attribute values,
    in one pass (first occurrence wins)."""
    found: dict[str, str] = {}
    if element is None:
        return found

    def walk(node: etree._Element, prefix: str) -> None:
        for child in node:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            name = prefix + tag.rpartition("}")[2]
            found.setdefault(name, child.text if child.text is not None else "")
            for attribute, value in child.attrib.items():
                found.setdefault(f"{name}/@{attribute}", value)
            if len(child):
                walk(child, name + "/")

    walk(element, "")
    return found


@dataclass(frozen=True)
class Traits:
    """The RECSANSVITALE body: identity traits as sent (no normalisation)."""

    birth_name: str | None
    first_names: tuple[str, ...]
    sex: str | None
    birth_date: str | None
    birth_place: str | None

    def to_dict(self) -> dict:
        return {
            "NomNaissance": self.birth_name, "Prenom": list(self.first_names), "Sexe": self.sex,
            "DateNaissance": self.birth_date, "LieuNaissance": self.birth_place,
        }


@dataclass(frozen=True)
class VitaleQuery:
    """The RECVITALE body: the beneficiary as read from a carte Vitale."""

    matricule: str | None
    key: str | None
    holder_matricule: str | None
    holder_key: str | None
    birth_name: str | None
    birth_date: str | None
    rank: str | None

    def to_dict(self) -> dict:
        return {
            "MatriculeIndividu": self.matricule, "Cle": self.key, "MatriculeOD": self.holder_matricule,
            "CleOD": self.holder_key,
            "NomNaissance": self.birth_name, "DateNaissance": self.birth_date,
            "RangNaissance": self.rank,
        }


@dataclass
class InsiRequest:
    """What a request says, as far as it could be read."""

    envelope: Envelope
    addressing: Addressing
    content_type_action: str | None = None
    content_type: str = ""
    operation: str | None = None
    lps: etree._Element | None = None
    bam: etree._Element | None = None
    security: etree._Element | None = None
    traits: Traits | None = None
    vitale: VitaleQuery | None = None
    lps_fields: dict[str, str] = field(default_factory=dict)
    bam_fields: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict:
        data: dict = {
            "operation": self.operation,
            "action": self.addressing.action or self.content_type_action,
            "message_id": self.addressing.message_id,
        }
        if self.lps is not None:
            data["lps"] = {
                key: self.lps_fields.get(f"LPS/{name}")
                for key, name in (("idam", "IDAM"), ("nom", "Nom"), ("version", "Version"),
                                  ("instance", "Instance"))
            }
        if self.traits is not None:
            data["traits"] = self.traits.to_dict()
        if self.vitale is not None:
            data["vitale"] = self.vitale.to_dict()
        return data


def read_request(envelope: Envelope, content_type: str = "") -> InsiRequest:
    """Extract headers and body of a parsed SOAP envelope (never fails: absent is None)."""
    request = InsiRequest(
        envelope=envelope,
        addressing=read_addressing(envelope),
        content_type_action=content_type_action(content_type),
        content_type=content_type,
        lps=envelope.header(CTXLPS_NS, "ContexteLPS"),
        bam=envelope.header(CTXBAM_NS, "ContexteBAM"),
        security=envelope.header(WSSE_NS, "Security"),
    )
    request.lps_fields = fields(request.lps)
    request.bam_fields = fields(request.bam)
    payload = envelope.payload
    if payload is None:
        return request
    request.operation = PAYLOAD_OPERATIONS.get(payload.tag)
    values = fields(payload)
    if payload.tag == _RECSANSVITALE:
        request.traits = Traits(
            birth_name=values.get("NomNaissance"),
            first_names=tuple(p.text or "" for p in payload.iterchildren(_PRENOM)),
            sex=values.get("Sexe"),
            birth_date=values.get("DateNaissance"),
            birth_place=values.get("LieuNaissance"),
        )
    elif payload.tag == _RECVITALE:
        request.vitale = VitaleQuery(
            matricule=values.get("MatriculeIndividu/NumIdentifiant"),
            key=values.get("MatriculeIndividu/Cle"),
            holder_matricule=values.get("MatriculeOD/NumIdentifiant"),
            holder_key=values.get("MatriculeOD/Cle"),
            birth_name=values.get("NomNaissance"),
            birth_date=values.get("DateNaissance"),
            rank=values.get("RangNaissance"),
        )
    return request


# -- answers --------------------------------------------------------------------------------

@dataclass(frozen=True)
class InsEntry:
    """One INS of an answer (INSACTIF or INSHISTO)."""

    matricule: str
    key: str
    oid: str
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class Individual:
    """The INDIVIDU part of a CR 00 answer. `tiq` maps TIQ element names to values, in order."""

    active: InsEntry
    history: tuple[InsEntry, ...]
    tiq: tuple[tuple[str, str], ...]


def _ins_xml(name: str, entry: InsEntry) -> str:
    dates = "".join(
        f"<{tag}>{escape(value)}</{tag}>"
        for tag, value in (("DateDeb", entry.start), ("DateFin", entry.end)) if value
    )
    return (
        f"<{name}><IdIndividu><NumIdentifiant>{escape(entry.matricule)}</NumIdentifiant>"
        f"<Cle>{escape(entry.key)}</Cle></IdIndividu><OID>{escape(entry.oid)}</OID>{dates}</{name}>"
    )


def result_xml(code: str, individual: Individual | None = None) -> str:
    """`RESULTAT` with the namespace layout of the CNAM answers (default namespace).

    Written as escaped text rather than built node by node: it is the hot path of the mock
    (a third of a request's work with lxml), and its shape is checked against the result XSD
    and the captures by the tests.
    """
    parts = [
        f'<RESULTAT xmlns:ns3="{RECVIT_NS}" xmlns:ns2="{RECSANS_NS}" xmlns="{RESULTAT_NS}">'
        f"<CR><CodeCR>{escape(code)}</CodeCR><LibelleCR>{escape(CR_LABELS[code])}</LibelleCR></CR>"
    ]
    if individual is not None:
        parts.append("<INDIVIDU>")
        parts.append(_ins_xml("INSACTIF", individual.active))
        parts.extend(_ins_xml("INSHISTO", entry) for entry in individual.history)
        parts.append("<TIQ>")
        parts.extend(f"<{name}>{escape(value)}</{name}>" for name, value in individual.tiq)
        parts.append("</TIQ></INDIVIDU>")
    parts.append("</RESULTAT>")
    return "".join(parts)


def response_envelope(result: str, operation: str, relates_to: str | None) -> bytes:
    """The SOAP 1.2 answer: WS-Addressing response Action, fresh MessageID, RelatesTo."""
    relates = f"<wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>" if relates_to else ""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}" xmlns:wsa="{WSA_NS}"><soap:Header>'
        f"<wsa:Action>{ACTION_PREFIX}{operation}Response</wsa:Action>"
        f"<wsa:MessageID>{new_message_id()}</wsa:MessageID>{relates}"
        f"</soap:Header><soap:Body>{result}</soap:Body></soap:Envelope>"
    ).encode()


# -- schemas --------------------------------------------------------------------------------

_IMPORTS = (
    (RECSANS_NS, "ServiceIdentiteCertifiee/INSi_RECSANS_INS.xsd"),
    (RECVIT_NS, "ServiceIdentiteCertifiee/INSi_RECVITALE_INS.xsd"),
    (CTXLPS_NS, "CTX/ROOT_ctxlps_CTXLPS_V01_00.xsd"),
    (CTXBAM_NS, "CTX/ROOT_ctxbam_CTXBAM_V01_02.xsd"),
    (WSSE_NS, "WSSE/Security.xsd"),
    (SIRAM_NS, "schema_faultSOAP_V01_01.xsd"),
)


@dataclass(frozen=True)
class InsiSchemas:
    """Compiled XSDs of the service: requests (body and headers) and the RESULTAT answer."""

    request: etree.XMLSchema
    result: etree.XMLSchema
    directory: Path


def _wrapper(directory: Path, imports: tuple[tuple[str, str], ...], extra: dict[str, Path]) -> str:
    lines = ['<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">']
    for namespace, relative in imports:
        lines.append(
            f'<xs:import namespace="{namespace}" schemaLocation="{(directory / relative).as_uri()}"/>'
        )
    for namespace, path in extra.items():
        lines.append(f'<xs:import namespace="{namespace}" schemaLocation="{path.as_uri()}"/>')
    lines.append("</xs:schema>")
    return "\n".join(lines)


@lru_cache(maxsize=4)
def load_schemas(directory: Path | None = None) -> InsiSchemas | None:
    """Compile the INSi XSDs of `directory` (default: the reference folder); None if absent."""
    directory = directory or reference_path("insi", "wsdl", "xsd")
    if directory is None:
        return None
    extra: dict[str, Path] = {}
    ws_addr = known_schema_files().get("http://www.w3.org/2006/03/addressing/ws-addr.xsd")
    if ws_addr is not None:
        extra["http://www.w3.org/2005/08/addressing"] = ws_addr
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    request = etree.XMLSchema(etree.fromstring(_wrapper(directory, _IMPORTS, extra), parser))
    result = etree.XMLSchema(
        etree.parse(str(directory / "ServiceIdentiteCertifiee" / "INSi_RESULTAT_INS.xsd"), parser)
    )
    return InsiSchemas(request=request, result=result, directory=directory)
