"""XDS.b transactions of the DMP mock: ITI-18 stored queries, ITI-57 updates (registry),
ITI-41 feeding and ITI-43 retrieval (repository)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace

from lxml import etree

from banc.soap import mtom
from banc.verdict import Finding, Severity
from banc.xds import codes as xc
from banc.xds.checks import check_against_cda, check_metadata
from banc.xds.ebrim import entry_from_element, parse_submission
from banc.xds.model import Author, DocumentEntry, Submission
from banc.xml import XmlInputError, parse_untrusted
from simulators.dmp_mock import faults, rules, wire
from simulators.dmp_mock.core import NEVER_LENIENT, Context, DmpCore, Outcome
from simulators.dmp_mock.models import (
    APPROVED,
    ARCHIVED,
    DELETED,
    DEPRECATED,
    NewSubmission,
    StoreConflict,
    StoredAssociation,
    StoredDocument,
    StoredSubmission,
)


def author_id(authors: tuple[Author, ...]) -> str:
    return authors[0].person.id if authors and authors[0].person else ""


def institution_id(authors: tuple[Author, ...]) -> str:
    return next((o.id for a in authors for o in a.institutions), "")


class DocumentTransactions(DmpCore):
    def stored_query(self, ctx: Context) -> Outcome:
        operation = "TD3.1"
        try:
            query = wire.parse_query(ctx.request.payload)
        except wire.WireError as exc:
            return self._xds_failure(ctx, [rules.finding("XDSRegistryMetadataError", f"{exc.message} "
                                                         "(ITI-18 : rim:AdhocQuery obligatoire)",
                                                         location="query:AdhocQueryRequest")],
                                     operation, "AdhocQueryResponse")
        summary: dict = {"operation": operation, "requete": query.name}
        right_action = "TD3.1.reference" if query.return_type == "ObjectRef" else "TD3.1.metadonnees"
        objects: list[bytes] = []
        if query.query_id == wire.FIND_DOCUMENTS:
            ins, _ = self._query_patient(ctx, query.first("$XDSDocumentEntryPatientId"), operation)
            findings = self._rights(ctx, right_action) + self._authorized(ctx, ins)
            if any(f.is_error for f in findings):
                return self._xds_failure(ctx, findings, operation, "AdhocQueryResponse")
            statuses = [s for s in query.params.get("$XDSDocumentEntryStatus") or [APPROVED] if rules.consultable(s)]
            docs = statuses and self.store.documents(
                ins, statuses,
                class_codes=[c.split("^")[0] for c in query.params.get("$XDSDocumentEntryClassCode", [])],
                type_codes=[c.split("^")[0] for c in query.params.get("$XDSDocumentEntryTypeCode", [])],
                format_codes=[c.split("^")[0] for c in query.params.get("$XDSDocumentEntryFormatCode", [])],
                creation_from=query.first("$XDSDocumentEntryCreationTimeFrom"),
                creation_to=query.first("$XDSDocumentEntryCreationTimeTo"),
            )
            docs = [d for d in docs if self._visible(ctx, d)]
            objects = [wire.object_ref(d.entry_uuid) if query.return_type == "ObjectRef"
                       else wire.with_status(d.metadata, d.status) for d in docs]
        elif query.query_id == wire.GET_DOCUMENTS:
            claims = ctx.vihf.claims
            findings = self._rights(ctx, right_action)
            docs = [self.store.document(entry_uuid=u) for u in query.params.get("$XDSDocumentEntryEntryUUID", [])]
            docs += [self.store.document(unique_id=u) for u in query.params.get("$XDSDocumentEntryUniqueId", [])]
            if not docs:
                findings.append(rules.finding("XDSStoredQueryParamNumber",
                                              "GetDocuments sans $XDSDocumentEntryEntryUUID ni $XDSDocumentEntryUniqueId"))
            found = [d for d in docs if d is not None and claims and d.patient_ins == claims.patient_ins
                     and rules.consultable(d.status)]
            if found:
                findings += self._authorized(ctx, found[0].patient_ins)
            if any(f.is_error for f in findings):
                return self._xds_failure(ctx, findings, operation, "AdhocQueryResponse")
            objects = [wire.object_ref(d.entry_uuid) if query.return_type == "ObjectRef"
                       else wire.with_status(d.metadata, d.status) for d in found if self._visible(ctx, d)]
        elif query.query_id == wire.FIND_SUBMISSION_SETS:
            ins, _ = self._query_patient(ctx, query.first("$XDSSubmissionSetPatientId"), operation)
            findings = self._rights(ctx, right_action) + self._authorized(ctx, ins)
            if any(f.is_error for f in findings):
                return self._xds_failure(ctx, findings, operation, "AdhocQueryResponse")
            objects = [wire.object_ref(s.entry_uuid) if query.return_type == "ObjectRef"
                       else s.metadata for s in self.store.submission_sets(ins)]
        elif query.query_id == wire.GET_ASSOCIATIONS:
            findings = self._rights(ctx, right_action)
            claims = ctx.vihf.claims
            uuids = query.params.get("$uuid", [])
            associations = [a for a in self.store.associations(uuids)
                            if claims is None or not a.patient_ins or a.patient_ins == claims.patient_ins]
            objects = [a.metadata or wire.object_ref(a.id) for a in associations]
        else:
            return self._xds_failure(ctx, [rules.finding(
                "XDSUnknownStoredQuery", f"requête enregistrée {query.query_id!r} non prise en charge "
                f"({', '.join(wire.STORED_QUERIES.values())})")], operation, "AdhocQueryResponse")
        summary["resultats"] = len(objects)
        body = wire.spliced_adhoc_response(objects, "urn:ihe:iti:2007:RegistryStoredQueryResponse", ctx.request)
        return Outcome(body, findings, summary=summary)

    def update_document_set(self, ctx: Context) -> Outcome:
        """ITI-57: status changes (archive, delete) and metadata updates (masking, visibility)."""
        operation = "TD3.3"
        payload = ctx.request.payload
        claims = ctx.vihf.claims
        assert claims is not None
        findings: list[Finding] = []
        planned: list[tuple[str, dict]] = []
        changes: list[str] = []
        associations = list(payload.iter(f"{{{wire.RIM}}}Association"))
        extrinsics = {e.get("id"): e for e in payload.iter(f"{{{wire.RIM}}}ExtrinsicObject")}
        for association in associations:
            kind = association.get("associationType", "")
            slots = {s.get("name"): [(v.text or "").strip() for v in s.iter(f"{{{wire.RIM}}}Value")]
                     for s in association.findall(f"{{{wire.RIM}}}Slot")}
            if kind == "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus":
                target = association.get("targetObject", "")
                doc = self.store.document(entry_uuid=target)
                new_status = (slots.get("NewStatus") or [""])[0]
                original = (slots.get("OriginalStatus") or [""])[0]
                if doc is None or doc.patient_ins != claims.patient_ins or not rules.consultable(doc.status):
                    findings.append(rules.finding("XDSDocumentUniqueIdError",
                                                  f"document {target} inconnu (ou supprimé) dans le DMP de ce patient",
                                                  reqs=rules.REQ_MANAGE))
                    continue
                if original and original != doc.status:
                    findings.append(rules.finding("XDSRegistryMetadataError",
                                                  f"statut d'origine {original} ≠ statut actuel {doc.status}",
                                                  reqs=rules.REQ_MANAGE))
                    continue
                action = {DELETED: "TD3.3c.supprimer", ARCHIVED: "TD3.3d.archiver",
                          APPROVED: "TD3.3d.desarchiver"}.get(new_status)
                if action is None:
                    findings.append(rules.finding("XDSRegistryMetadataError",
                                                  f"nouveau statut {new_status!r} non pris en charge",
                                                  reqs=rules.REQ_MANAGE))
                    continue
                findings += self._rights(ctx, action, author_id=doc.author_id,
                                         author_structure=doc.author_institution)
                planned.append((doc.entry_uuid, {"status": new_status}))
                changes.append(f"{action} {doc.unique_id}")
            elif kind == xc.HAS_MEMBER and association.get("targetObject") in extrinsics:
                new = extrinsics[association.get("targetObject")]
                lid = new.get("lid", "")
                doc = self.store.document(entry_uuid=lid)
                if doc is None or doc.patient_ins != claims.patient_ins or not rules.consultable(doc.status):
                    findings.append(rules.finding("XDSDocumentUniqueIdError",
                                                  f"document {lid!r} (lid) inconnu dans le DMP de ce patient",
                                                  reqs=rules.REQ_MANAGE))
                    continue
                entry = entry_from_element(new)
                codes = tuple(c.code for c in entry.confidentiality)
                before, after = set(doc.confidentiality), set(codes)
                for code, added, removed in ((rules.MASQUE_PS, "TD3.3a.masquer", "TD3.3a.demasquer"),
                                             (rules.INVISIBLE_PATIENT, "TD3.3b.visible_patient", "TD3.3b.visible_patient"),
                                             (rules.INVISIBLE_RL, "TD3.3b.visible_patient", "TD3.3b.visible_patient")):
                    if code in after - before:
                        findings += self._rights(ctx, added, author_id=doc.author_id)
                        changes.append(f"+{code} {doc.unique_id}")
                    if code in before - after:
                        findings += self._rights(ctx, removed, author_id=doc.author_id)
                        changes.append(f"-{code} {doc.unique_id}")
                metadata = wire.load_stored(doc.metadata)
                for old in metadata.findall(f"{{{wire.RIM}}}Classification"):
                    if old.get("classificationScheme") == xc.DE_CONFIDENTIALITY:
                        metadata.remove(old)
                anchor = metadata.find(f"{{{wire.RIM}}}ExternalIdentifier")
                for new_code in new.findall(f"{{{wire.RIM}}}Classification"):
                    if new_code.get("classificationScheme") == xc.DE_CONFIDENTIALITY:
                        clone = etree.fromstring(etree.tostring(new_code))
                        clone.set("classifiedObject", doc.entry_uuid)
                        if anchor is not None:
                            anchor.addprevious(clone)
                        else:
                            metadata.append(clone)
                planned.append((doc.entry_uuid, {"confidentiality": codes, "metadata": etree.tostring(metadata)}))
        if not planned and not findings:
            findings.append(rules.finding("XDSRegistryMetadataError",
                                          "mise à jour sans association UpdateAvailabilityStatus ni nouvelle "
                                          "version de métadonnées", reqs=rules.REQ_MANAGE))
        if any(f.is_error for f in findings):
            return self._xds_failure(ctx, findings, operation)
        for entry_uuid, change in planned:
            self.store.update_document(entry_uuid, **change)
        root = wire.registry_response(faults.registry_errors([f for f in findings if not f.is_error]))
        return Outcome(self._envelope(ctx, root, "urn:ihe:iti:2010:UpdateDocumentSetResponse"), findings,
                       summary={"operation": operation, "modifications": changes})

    # -- XDS: repository --------------------------------------------------------------------
    def retrieve(self, ctx: Context) -> Outcome:
        claims = ctx.vihf.claims
        assert claims is not None
        findings: list[Finding] = []
        documents: list[tuple[str, str, bytes]] = []
        for repository, unique_id in wire.parse_retrieve(ctx.request.payload):
            if repository != wire.REPOSITORY_ID:
                findings.append(rules.finding("XDSUnknownRepositoryId",
                                              f"entrepôt {repository!r} inconnu ({wire.REPOSITORY_ID} attendu)"))
                continue
            doc = self.store.document(unique_id=unique_id, with_content=True)
            if doc is None or doc.content is None:
                findings.append(rules.finding("XDSDocumentUniqueIdError", f"document {unique_id!r} inconnu"))
                continue
            if not rules.consultable(doc.status):
                findings.append(rules.finding("XDSDocumentUniqueIdError",
                                              f"document {unique_id} supprimé du DMP (TD3.3c) : plus consultable",
                                              reqs=rules.REQ_MANAGE))
                continue
            if claims.patient_ins and doc.patient_ins != claims.patient_ins:
                findings.append(rules.finding("XDSPatientIdDoesNotMatch",
                                              f"document {unique_id} d'un autre patient que le resource-id du VIHF"))
                continue
            action = {DEPRECATED: "TD3.2.obsolete", ARCHIVED: "TD3.2.archive"}.get(doc.status, "TD3.2.normal")
            denied = self._rights(ctx, action) + self._authorized(ctx, doc.patient_ins)
            if not self._visible(ctx, doc):
                denied += self._rights(ctx, "TD3.2.masque_ps", author_id=doc.author_id) or [
                    rules.finding("DMP.ACCESS_DENIED", f"document {unique_id} masqué aux professionnels")]
            findings += denied
            if any(f.is_error for f in denied):
                continue
            documents.append((doc.unique_id, doc.mime_type, doc.content))
        root, attachments = wire.retrieve_response(documents, faults.registry_errors(findings))
        envelope = self._envelope(ctx, root, "urn:ihe:iti:2007:RetrieveDocumentSetResponse")
        body, content_type = mtom.build(envelope, attachments,
                                        action="urn:ihe:iti:2007:RetrieveDocumentSetResponse")
        return Outcome(body, findings, content_type=content_type,
                       summary={"operation": "TD3.2", "documents": [d[0] for d in documents]},
                       label="OK" if documents else "refusé")

    def provide_and_register(self, ctx: Context) -> Outcome:
        """ITI-41 (TD2.1): checks, then one atomic write; acknowledged only after the commit."""
        operation = "TD2.1"
        settings = self.settings
        claims = ctx.vihf.claims
        assert claims is not None
        payload = ctx.request.payload
        submit = payload.find(f"{{{wire.LCM}}}SubmitObjectsRequest")
        object_list = submit.find(f"{{{wire.RIM}}}RegistryObjectList") if submit is not None else None
        if object_list is None:
            return self._xds_failure(ctx, [rules.finding("XDSRegistryMetadataError",
                                                    "ProvideAndRegisterDocumentSetRequest sans SubmitObjectsRequest/RegistryObjectList")],
                                     operation)
        relaxed: list[Finding] = rules.check_mtom(payload, ctx.request.message is not None)
        contents: dict[str, bytes] = {}
        errors: list[Finding] = []
        for document in payload.findall(f"{{{wire.XDSB}}}Document"):
            try:
                data = mtom.element_content(document, ctx.request.message)
            except mtom.MtomError as exc:
                errors.append(rules.finding("XDSMissingDocument", exc.message))
                continue
            if len(data) > settings.max_document_bytes:
                errors.append(rules.finding(
                    "XDSRepositoryError",
                    f"document {document.get('id')} de {len(data) / 1_048_576:.1f} Mo : au-delà de la "
                    f"limite de {settings.max_document_bytes / 1_048_576:.0f} Mo du DMP"))
                continue
            contents[document.get("id", "")] = data
        extrinsic_ids = [e.get("id", "") for e in object_list.iter(f"{{{wire.RIM}}}ExtrinsicObject")]
        for ident in extrinsic_ids:
            if ident in contents:
                continue
            alias = next((k for k in contents if k.lower() == ident.lower()), None)
            if alias is not None and settings.trust_official_examples:
                contents[ident] = contents.pop(alias)
                relaxed.append(rules.finding(
                    "DMP.RELAXED.DOCUMENT_ID",
                    f"option « exemples officiels » : Document id={alias!r} rattaché à l'ExtrinsicObject "
                    f"{ident!r} (casse différente)", severity=Severity.WARNING))
            elif not any(e.rule_id == "XDSRepositoryError" for e in errors):
                errors.append(rules.finding("XDSMissingDocument",
                                            f"aucun Document pour l'ExtrinsicObject {ident!r}"))
        if errors:
            return self._xds_failure(ctx, relaxed + errors, operation)
        mapping = wire.assign_uuids(object_list)
        contents = {mapping.get(k, k): v for k, v in contents.items()}
        submission = parse_submission(object_list)
        if submission is None:
            return self._xds_failure(ctx, [rules.finding("XDSRegistryMetadataError",
                                                    "aucun lot de soumission (RegistryPackage classé SubmissionSet)")],
                                     operation)
        findings = relaxed + self._rights(ctx, "TD2.1")
        ins = rules.patient_of(submission.submission_set.patient_id)
        if ins and claims.patient_ins and ins[0] == claims.patient_ins:
            auth = self.store.authorization(ins[0], ctx.actor.id)
            if auth is not None and auth.state == "BLOQUE":
                findings.append(rules.finding("DMP.ACCESS_DENIED", "professionnel bloqué par le patient"))
        patient = self.store.patient(ins[0]) if ins else None
        if ins and patient is None:
            findings.append(rules.finding("XDSUnknownPatientId", f"aucun DMP pour l'INS {ins[0]}"))
        elif patient is not None and patient.status != "active":
            findings.append(rules.finding("XDSUnknownPatientId", f"le DMP de l'INS {ins[0]} est fermé"))
        metadata_findings = [f for f in check_metadata(submission) if f.rule_id != "XDS-PATIENT-MISMATCH"]
        metadata_findings += rules.check_submission(submission, claims, settings.value_sets)
        entries = {d.entry_uuid: d for d in submission.documents}
        replaced: list[str] = []
        for association in submission.associations:
            if association.type == xc.RPLC:
                previous = self.store.document(entry_uuid=association.target)
                if previous is None or previous.patient_ins != (ins[0] if ins else ""):
                    metadata_findings.append(rules.finding("XDSReplaceFailed",
                                                           f"document remplacé {association.target} inconnu dans ce DMP",
                                                           reqs=rules.REQ_MANAGE))
                else:
                    replaced.append(association.target)
        cda_findings: list[Finding] = []
        for entry in submission.documents:
            data = contents.get(entry.entry_uuid, b"")
            if rules.is_signature(entry):
                metadata_findings += rules.check_signature_document(data, entry.unique_id)
                continue
            if entry.mime_type != "text/xml":
                continue
            try:
                root = parse_untrusted(data, what=f"le document {entry.unique_id}")
            except XmlInputError as exc:
                metadata_findings.append(rules.finding("DMP.CDA", exc.message))
                continue
            metadata_findings += check_against_cda(entry, root)
            if settings.validate_cda:
                cda_findings += self._validate_cda(root, entry.unique_id)
        if settings.strictness == "lenient":
            downgraded = [f for f in metadata_findings if f.is_error and f.rule_id not in NEVER_LENIENT]
            if downgraded:
                ctx.tolerated.append(f"{len(downgraded)} erreur(s) de métadonnées en mode tolérant "
                                     f"({', '.join(sorted({f.rule_id for f in downgraded}))})")
            metadata_findings = [replace(f, severity=Severity.WARNING) if f in downgraded else f
                                 for f in metadata_findings]
        findings += metadata_findings
        if any(f.is_error for f in findings):
            return self._xds_failure(ctx, findings + cda_findings, operation)
        new = self._new_submission(submission, entries, contents, object_list, replaced, ins)
        try:
            self.store.submit(new)
        except StoreConflict as conflict:
            return self._xds_failure(ctx, [*findings, rules.finding(conflict.code, conflict.message)], operation)
        root = wire.registry_response(faults.registry_errors([f for f in findings if not f.is_error]))
        return Outcome(self._envelope(ctx, root, "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"),
                       findings + cda_findings,
                       summary={"operation": operation, "patient": ins[0] if ins else "",
                                "documents": [d.unique_id for d in new.documents],
                                "remplace": replaced})

    def _validate_cda(self, root: etree._Element, unique_id: str) -> list[Finding]:
        """The CDA engine's verdict, recorded as warnings: it informs the verdict, while the DMP's
        own feed rules decide acceptance (the real DMP does not run the CI-SIS schematrons)."""
        from banc.cda import validate_root  # lazy: Saxon is loaded only when validation is on

        verdict = validate_root(root, subject=unique_id)
        findings = [replace(f, severity=Severity.WARNING if f.is_error else f.severity,
                            location=f"{unique_id} {f.location}".strip()) for f in verdict.findings]
        findings += [rules.finding("DMP.CDA.NOT_EVALUATED", f"{unique_id} : {n.ruleset} non évalué ({n.reason})",
                                   severity=Severity.INFO) for n in verdict.not_evaluated]
        return findings

    @staticmethod
    def _new_submission(submission: Submission, entries: dict[str, DocumentEntry], contents: dict[str, bytes],
                        object_list: etree._Element, replaced: list[str], ins: tuple[str, str]) -> NewSubmission:
        """What the store writes for one accepted ITI-41 (registry form of each object)."""
        ss = submission.submission_set
        package = next(p for p in object_list.iter(f"{{{wire.RIM}}}RegistryPackage") if p.get("id") == ss.entry_uuid)
        documents = []
        extrinsics = {e.get("id"): e for e in object_list.iter(f"{{{wire.RIM}}}ExtrinsicObject")}
        for entry_uuid, entry in entries.items():
            content = contents[entry_uuid]
            documents.append(StoredDocument(
                entry_uuid=entry_uuid, unique_id=entry.unique_id, patient_ins=ins[0], status=APPROVED,
                class_code=entry.class_code.code, type_code=entry.type_code.code,
                format_code=entry.format_code.code, facility_code=entry.healthcare_facility_type.code,
                practice_code=entry.practice_setting.code, creation_time=entry.creation_time,
                service_start=entry.service_start, service_stop=entry.service_stop,
                confidentiality=tuple(c.code for c in entry.confidentiality),
                author_id=author_id(entry.authors), author_institution=institution_id(entry.authors),
                submission_uuid=ss.entry_uuid, mime_type=entry.mime_type,
                hash=hashlib.sha1(content).hexdigest(), size=len(content),
                is_signature=rules.is_signature(entry),
                metadata=wire.registry_entry(extrinsics[entry_uuid], content), content=content,
            ))
        associations = []
        for element in object_list.iter(f"{{{wire.RIM}}}Association"):
            ident = element.get("id", "")
            if not wire.is_uuid(ident):
                ident = f"urn:uuid:{uuid.uuid4()}"
                element.set("id", ident)
            associations.append(StoredAssociation(ident, element.get("associationType", ""),
                                                  element.get("sourceObject", ""), element.get("targetObject", ""),
                                                  ins[0], etree.tostring(element)))
        stored_set = StoredSubmission(ss.entry_uuid, ss.unique_id, ins[0], ss.source_id, ss.submission_time,
                                      author_id(ss.authors), etree.tostring(package))
        return NewSubmission(stored_set, documents, associations, deprecate=replaced)

