"""XDS.b identifiers and the French (CI-SIS) code systems used in DMP and MSSanté metadata.

The classification-scheme UUIDs are fixed by IHE ITI TF-3 §4.2.5; the code-system OIDs are the
CI-SIS ones (`JDV_J0x_Xds…` value sets). The formatCode table maps a CDA document templateId to
the XDS formatCode of its volet: it is data, in one place, because several entries come from the
volet specifications rather than from any file in the reference package (marked uncertain).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- ebRIM namespaces -----------------------------------------------------------------------
NS_RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
NS_LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
NS_RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
NS_QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
NS_XDSB = "urn:ihe:iti:xds-b:2007"
NSMAP = {"rim": NS_RIM, "lcm": NS_LCM, "rs": NS_RS, "query": NS_QUERY, "xdsb": NS_XDSB}

# --- object types ---------------------------------------------------------------------------
OBJECT_TYPE_STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
OBJECT_TYPE_ON_DEMAND = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"

# --- DocumentEntry classification / identification schemes ----------------------------------
DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
DE_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
DE_CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
DE_EVENT = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
DE_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
DE_FACILITY = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
DE_PRACTICE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
DE_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"

# --- SubmissionSet schemes ------------------------------------------------------------------
SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
SS_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"

# --- associations ---------------------------------------------------------------------------
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
APND = "urn:ihe:iti:2007:AssociationType:APND"
XFRM = "urn:ihe:iti:2007:AssociationType:XFRM"

# --- code systems ---------------------------------------------------------------------------
CS_CLASS = "1.2.250.1.213.1.1.4.1"
CS_LOINC = "2.16.840.1.113883.6.1"
CS_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
CS_CONFIDENTIALITY_FR = "1.2.250.1.213.1.1.4.13"
CS_FACILITY = "1.2.250.1.71.4.2.4"
CS_PRACTICE = "1.2.250.1.213.1.1.4.9"
CS_FORMAT_CISIS = "1.2.250.1.213.1.1.4.2.282"
CS_FORMAT_IHE = "1.3.6.1.4.1.19376.1.2.3"
CS_SPECIALTY = "1.2.250.1.213.1.1.4.5"
CS_RPPS_ADELI = "1.2.250.1.71.4.2.1"
CS_STRUCTURE = "1.2.250.1.71.4.2.2"


@dataclass(frozen=True)
class Code:
    """A coded value as XDS carries it: code (nodeRepresentation), coding scheme, display name."""

    code: str
    scheme: str
    display: str = ""

    def to_hl7(self) -> str:
        """`code^display^scheme`, the CE-like form of authorSpecialty / authorRole slots."""
        return f"{self.code}^{self.display}^{self.scheme}"

    @classmethod
    def from_hl7(cls, value: str) -> Code:
        parts = [*value.split("^"), "", "", ""][:3]
        return cls(code=parts[0], display=parts[1], scheme=parts[2])

    def same_as(self, other: Code | None) -> bool:
        """Codes agree when code and scheme agree; display names are free text."""
        return other is not None and (self.code, self.scheme) == (other.code, other.scheme)


# --- confidentiality ------------------------------------------------------------------------
CONF_NORMAL = Code("N", CS_CONFIDENTIALITY, "Normal")
CONF_RESTRICTED = Code("R", CS_CONFIDENTIALITY, "Restreint")
CONF_VERY_RESTRICTED = Code("V", CS_CONFIDENTIALITY, "Très restreint")
MASQUE_PS = Code("MASQUE_PS", CS_CONFIDENTIALITY_FR, "Masqué aux professionnels de santé")
INVISIBLE_PATIENT = Code("INVISIBLE_PATIENT", CS_CONFIDENTIALITY_FR, "Non visible par le patient")
INVISIBLE_REPRESENTANTS_LEGAUX = Code(
    "INVISIBLE_REPRESENTANTS_LEGAUX",
    CS_CONFIDENTIALITY_FR,
    "Non visible par les représentants légaux du patient",
)
VISIBILITY_CODES: dict[str, Code] = {
    c.code: c for c in (MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX)
}
"""The DMP's masking / visibility codes (SC.DOC.01.MS1), carried beside the HL7 code."""

# --- formatCode by document templateId ------------------------------------------------------
FORMAT_N1_PDF = Code(
    "urn:ihe:iti:xds-sd:pdf:2008", CS_FORMAT_IHE, "Document à corps non structuré en Pdf/A-1"
)
FORMAT_N1_TEXT = Code(
    "urn:ihe:iti:xds-sd:text:2008", CS_FORMAT_IHE, "Document à corps non structuré en texte brut"
)

FORMAT_BY_TEMPLATE: dict[str, Code] = {
    "1.3.6.1.4.1.19376.1.2.20": FORMAT_N1_PDF,  # IHE XDS-SD (N1); text/plain bodies use FORMAT_N1_TEXT
    "1.2.250.1.213.1.1.1.13": Code(
        "urn:asip:ci-sis:vsm:2012", CS_FORMAT_CISIS, "Volet de Synthèse Médicale"
    ),
    "1.2.250.1.213.1.1.1.29": Code(
        "urn:asip:ci-sis:ldl-ses:2020",
        CS_FORMAT_CISIS,
        "Lettre de liaison à la sortie d'un établissement de santé",
    ),  # (?)
    "1.2.250.1.213.1.1.1.39": Code(
        "urn:asip:ci-sis:ep-med-dm:2021", CS_FORMAT_CISIS, "Prescription de produits de santé"
    ),  # (?)
    "1.2.250.1.213.1.1.1.22": Code(
        "urn:asip:ci-sis:dlu-dlu:2022", CS_FORMAT_CISIS, "Dossier de liaison d'urgence"
    ),  # (?)
    "1.2.250.1.213.1.1.1.23": Code(
        "urn:asip:ci-sis:dlu-fludt:2022", CS_FORMAT_CISIS, "Fiche de liaison d'urgence - transfert"
    ),  # (?)
    "1.2.250.1.213.1.1.1.24": Code(
        "urn:asip:ci-sis:dlu-fludr:2022", CS_FORMAT_CISIS, "Fiche de liaison d'urgence - retour"
    ),  # (?)
    "1.2.250.1.213.1.1.1.58": Code(
        "urn:asip:ci-sis:tddui:2024", CS_FORMAT_CISIS, "Transfert de données DUI"
    ),  # (?)
}
"""Document templateId → formatCode. Entries marked (?) are not confirmed by a file of the
reference set: they are configuration, and callers may override (`derive_submission(format_code=…)`)."""

FORMAT_DOMICILE: dict[str, Code] = {
    "1.2.250.1.213.1.1.1.22": Code(
        "urn:asip:ci-sis:dlu-dlu-dom:2022", CS_FORMAT_CISIS, "DLU à domicile"
    ),
    "1.2.250.1.213.1.1.1.23": Code(
        "urn:asip:ci-sis:dlu-fludt-dom:2022", CS_FORMAT_CISIS, "FLUDT à domicile"
    ),
    "1.2.250.1.213.1.1.1.24": Code(
        "urn:asip:ci-sis:dlu-fludr-dom:2022", CS_FORMAT_CISIS, "FLUDR à domicile"
    ),
}
"""Home-care formatCodes of the DLU volet (?) (DOMAIN.md §2), chosen when the document is written
for a home-care service (healthcareFacilityTypeCode of the social / medico-social sector)."""

CLASS_BY_TYPE: dict[str, Code] = {
    "SYNTH": Code("11", CS_CLASS, "Synthèse"),
    "74207-2": Code("11", CS_CLASS, "Synthèse"),
    "EXPORT_DUI": Code("11", CS_CLASS, "Synthèse"),
    "11490-0": Code("10", CS_CLASS, "Compte rendu"),
    "57833-6": Code("30", CS_CLASS, "Traitement / prescription"),  # (?)
}
"""classCode per typeCode (JDV_J06 is not in the reference set: values (?)); default below."""

DEFAULT_CLASS = Code("10", CS_CLASS, "Compte rendu")
