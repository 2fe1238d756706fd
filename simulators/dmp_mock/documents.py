"""XDS.b transactions of the DMP mock: ITI-18 stored queries, ITI-57 updates (registry),
ITI-41 feeding and ITI-43 retrieval (repository).

Each handler reads the request and the store, asks `rules_xds` (and `rules`) what is allowed,
then writes and answers; the decisions themselves are there."""

from __future__ import annotations

import hashlib
import uuid

from lxml import etree

from banc.soap import mtom
from banc.verdict import Finding
from banc.xds import codes as xc
from banc.xds.ebrim import entry_from_element, parse_submission
from banc.xds.model import Author, DocumentEntry, Submission
from simulators.dmp_mock import faults, rules, rules_xds, wire
from simulators.dmp_mock.core import Context, DmpCore, Outcome
from simulators.dmp_mock.models import (
    APPROVED,
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
            return self._xds_failure(ctx, [rules_xds.unreadable_query(exc.message)], operation, "AdhocQueryResponse")
        claims = ctx.vihf.claims
        assert claims is not None
        summary: dict = {"operation": operation, "requete": query.name}
        right_action = rules_xds.query_right(query.return_type)
        objects: list[bytes] = []
        if query.query_id == wire.FIND_DOCUMENTS:
            ins, _ = self._query_patient(ctx, query.first("$XDSDocumentEntryPatientId"), operation)
            findings = self._rights(ctx, right_action) + self._authorized(ctx, ins)
            if any(f.is_error for f in findings):
                return self._xds_failure(ctx, findings, operation, "AdhocQueryResponse")
            statuses = rules_xds.queried_statuses(query.params.get("$XDSDocumentEntryStatus"))
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
            findings = self._rights(ctx, right_action)
            docs = [self.store.document(entry_uuid=u) for u in query.params.get("$XDSDocumentEntryEntryUUID", [])]
            docs += [self.store.document(unique_id=u) for u in query.params.get("$XDSDocumentEntryUniqueId", [])]
            findings += rules_xds.check_get_documents(len(docs))
            found = [d for d in docs if d is not None and rules_xds.in_record(d, claims.patient_ins)]
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
            uuids = query.params.get("$uuid", [])
            associations = [a for a in self.store.associations(uuids)
                            if rules_xds.association_in_record(a, claims.patient_ins)]
            objects = [a.metadata or wire.object_ref(a.id) for a in associations]
        else:
            return self._xds_failure(ctx, [rules_xds.unknown_query(query.query_id)], operation, "AdhocQueryResponse")
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
                action, refused = rules_xds.judge_status_change(target, doc, claims.patient_ins, new_status, original)
                findings += refused
                if action is None or doc is None:
                    continue
                findings += self._rights(ctx, action, author_id=doc.author_id,
                                         author_structure=doc.author_institution)
                planned.append((doc.entry_uuid, {"status": new_status}))
                changes.append(f"{action} {doc.unique_id}")
            elif kind == xc.HAS_MEMBER and association.get("targetObject") in extrinsics:
                new = extrinsics[association.get("targetObject")]
                lid = new.get("lid", "")
                doc = self.store.document(entry_uuid=lid)
                refused = rules_xds.check_metadata_update(lid, doc, claims.patient_ins)
                findings += refused
                if refused or doc is None:
                    continue
                entry = entry_from_element(new)
                codes = tuple(c.code for c in entry.confidentiality)
                for action, change in rules_xds.confidentiality_changes(doc.confidentiality, codes):
                    findings += self._rights(ctx, action, author_id=doc.author_id)
                    changes.append(f"{change} {doc.unique_id}")
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
        findings += rules_xds.check_update_not_empty(bool(planned), bool(findings))
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
            unknown = rules_xds.check_repository(repository)
            doc = self.store.document(unique_id=unique_id, with_content=True) if not unknown else None
            refused = unknown or rules_xds.check_retrieval(unique_id, doc, claims.patient_ins)
            findings += refused
            if refused or doc is None or doc.content is None:
                continue
            denied = self._rights(ctx, rules_xds.retrieval_right(doc.status)) + self._authorized(ctx, doc.patient_ins)
            if not self._visible(ctx, doc):  # masked to professionals: the matrix's refusal says why
                denied += self._rights(ctx, "TD3.2.masque_ps", author_id=doc.author_id)
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
            return self._xds_failure(ctx, [rules_xds.missing_object_list()], operation)
        relaxed: list[Finding] = rules.check_mtom(payload, ctx.request.message is not None)
        contents: dict[str, bytes] = {}
        errors: list[Finding] = []
        for document in payload.findall(f"{{{wire.XDSB}}}Document"):
            try:
                data = mtom.element_content(document, ctx.request.message)
            except mtom.MtomError as exc:
                errors.append(rules_xds.unreadable_content(exc.message))
                continue
            too_large = rules_xds.check_document_size(str(document.get("id")), len(data), settings.max_document_bytes)
            errors += too_large
            if not too_large:
                contents[document.get("id", "")] = data
        extrinsic_ids = [e.get("id", "") for e in object_list.iter(f"{{{wire.RIM}}}ExtrinsicObject")]
        aliases, matched, missing = rules_xds.match_documents(
            extrinsic_ids, contents, too_large=any(e.rule_id == "XDSRepositoryError" for e in errors),
            trust_official_examples=settings.trust_official_examples)
        contents = {aliases.get(k, k): v for k, v in contents.items()}
        relaxed += matched
        errors += missing
        if errors:
            return self._xds_failure(ctx, relaxed + errors, operation)
        mapping = wire.assign_uuids(object_list)
        contents = {mapping.get(k, k): v for k, v in contents.items()}
        submission = parse_submission(object_list)
        if submission is None:
            return self._xds_failure(ctx, [rules_xds.no_submission_set()], operation)
        findings = relaxed + self._rights(ctx, "TD2.1")
        ins = rules.patient_of(submission.submission_set.patient_id)
        findings += rules_xds.check_feed_patient(ins, claims, self.store.authorization(ins[0], ctx.actor.id) if ins
                                                 else None, self.store.patient(ins[0]) if ins else None)
        metadata_findings = rules_xds.check_feed_metadata(submission, claims, settings.value_sets)
        entries = {d.entry_uuid: d for d in submission.documents}
        replaced: list[str] = []
        for association in submission.associations:
            if association.type == xc.RPLC:
                failed = rules_xds.check_replacement(association.target,
                                                     self.store.document(entry_uuid=association.target), ins)
                metadata_findings += failed
                if not failed:
                    replaced.append(association.target)
        cda_findings: list[Finding] = []
        for entry in submission.documents:
            root, content_findings = rules_xds.check_content(entry, contents.get(entry.entry_uuid, b""))
            metadata_findings += content_findings
            if root is not None and settings.validate_cda:
                cda_findings += self._validate_cda(root, entry.unique_id)
        metadata_findings, note = rules_xds.leniently(metadata_findings, lenient=settings.strictness == "lenient")
        ctx.tolerate(note)
        findings += metadata_findings
        if any(f.is_error for f in findings):
            return self._xds_failure(ctx, findings + cda_findings, operation)
        new = self._new_submission(submission, entries, contents, object_list, replaced, ins)
        try:
            self.store.submit(new)
        except StoreConflict as conflict:
            return self._xds_failure(ctx, [*findings, rules_xds.store_conflict(conflict.code, conflict.message)],
                                     operation)
        root = wire.registry_response(faults.registry_errors([f for f in findings if not f.is_error]))
        return Outcome(self._envelope(ctx, root, "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"),
                       findings + cda_findings,
                       summary={"operation": operation, "patient": ins[0] if ins else "",
                                "documents": [d.unique_id for d in new.documents],
                                "remplace": replaced})

    @staticmethod
    def _validate_cda(root: etree._Element, unique_id: str) -> list[Finding]:
        """The CDA engine's verdict on a fed document, as the DMP weighs it (`cda_advisory`)."""
        from banc.cda import validate_root  # lazy: Saxon is loaded only when validation is on

        return rules_xds.cda_advisory(validate_root(root, subject=unique_id), unique_id)

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

