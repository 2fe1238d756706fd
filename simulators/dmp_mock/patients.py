"""HL7v3 patient transactions (TD0.2, TD0.5, TD1.x), authorizations (TD0.3, TD1.6) and the
patient list (TD0.4) of the DMP mock: read, ask `rules_patients`, write, answer."""

from __future__ import annotations

import secrets
import time

from lxml import etree

from simulators.dmp_mock import faults, rules_patients, wire
from simulators.dmp_mock.core import Context, DmpCore, Outcome, Refused
from simulators.dmp_mock.models import (
    Authorization,
    Patient,
)


def stamp(moment: float | None) -> str | None:
    """An epoch time as the habilitations services write dates (UTC, `YYYYMMDDhhmmss`)."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(moment)) if moment else None


class PatientTransactions(DmpCore):
    # -- HL7v3 patient transactions ---------------------------------------------------------
    def patient_query(self, ctx: Context) -> Outcome:
        payload = ctx.request.payload
        reason = wire.hl7_reason(payload)
        operation = rules_patients.query_operation(reason)
        patient_id = wire.hl7_patient(payload)
        self._require_patient(ctx, patient_id)
        findings = self._rights(ctx, operation)
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = operation
            return refusal
        patient = self.store.patient(patient_id[0]) if patient_id else None
        outer, message = wire.hl7_message("PRPA_IN201308UV02", payload)
        control = wire.hl7_element(message, "controlActProcess", classCode="CACT", moodCode="EVN")
        wire.copy_reason(control, payload)
        if patient is not None:
            if operation == "TD0.2":
                auth = self.store.authorization(patient.ins, ctx.actor.id)
                state = rules_patients.authorization_state(auth)
                wire.attention_line(message, "AUTORISATION", "1.2.250.1.213.4.1.2.6.1",
                                    wire.coded_value(state, "1.2.250.1.213.4.1.2.6.2"))
                wire.attention_line(message, "STATUT_MT", "1.2.250.1.213.4.1.2.6.3",
                                    wire.bool_value(bool(auth and auth.treating_doctor)))
            wire.registration_event(control, patient, extra_observations={"RATTACHEMENT_ENS": "true"})
        wire.query_ack(control, payload, "OK" if patient else "NF")
        body = wire.response_envelope(outer, "urn:hl7-org:v3:PRPA_IN201308UV02", ctx.request)
        return Outcome(body, findings, summary={"operation": operation, "reponse": "OK" if patient else "NF",
                                                "patient": patient_id[0] if patient_id else ""},
                       label="trouvé" if patient else "non trouvé")

    def patient_search(self, ctx: Context) -> Outcome:
        payload = ctx.request.payload
        findings = self._rights(ctx, "TD0.5")
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = "TD0.5"
            return refusal
        family = wire.hl7_family_query(payload)
        found = self.store.patients(family=family) if family else []
        outer, message = wire.hl7_message("PRPA_IN201306UV02", payload, ack_as_element=True)
        control = wire.hl7_element(message, "controlActProcess", classCode="CACT", moodCode="EVN")
        wire.hl7_element(control, "code", code="PRPA_TE201306UV02", codeSystem="2.16.840.1.113883.1.6")
        for patient in found:
            wire.registration_event(control, patient)
        wire.query_ack(control, payload, "OK" if found else "NF", total=len(found))
        query = payload.find(f".//{wire.h('queryByParameter')}")
        if query is not None:
            control.append(etree.fromstring(etree.tostring(query)))
        body = wire.response_envelope(outer, "urn:hl7-org:v3:PRPA_IN201306UV02", ctx.request)
        return Outcome(body, findings, summary={"operation": "TD0.5", "resultats": len(found)})

    def patient_create(self, ctx: Context) -> Outcome:
        payload = ctx.request.payload
        patient_id = wire.hl7_patient(payload)
        self._require_patient(ctx, patient_id)
        findings = rules_patients.check_create(patient_id, self.store.patient(patient_id[0]) if patient_id else None)
        ack, detail = ("AE", findings[0].message) if findings else ("AA", "")
        patient = None
        if patient_id is not None and not findings:
            person = wire.hl7_person(payload)
            patient = self.store.add_patient(Patient(patient_id[0], patient_id[1], **person))
        outer, message = wire.hl7_message("PRPA_IN201312UV02", payload, ack=ack, ack_detail=detail,
                                          wrapper="PRPA_IN201311UV02_Response")
        control = wire.hl7_element(message, "controlActProcess", classCode="CACT", moodCode="EVN")
        wire.copy_reason(control, payload)
        wire.registration_event(control, patient, demographics=False)
        body = wire.response_envelope(outer, "urn:hl7-org:v3:PRPA_IN201311ResponseUV02", ctx.request)
        return Outcome(body, findings, summary={"operation": "TD1.1"}, label="créé" if ack == "AA" else "refusé")

    def patient_update(self, ctx: Context) -> Outcome:
        payload = ctx.request.payload
        reason = wire.hl7_reason(payload)
        operation = rules_patients.UPDATE_OPERATIONS.get(reason, "TD1.x")
        patient_id = wire.hl7_patient(payload)
        self._require_patient(ctx, patient_id)
        patient = self.store.patient(patient_id[0]) if patient_id else None
        change, findings = rules_patients.judge_patient_update(reason, patient)
        ack, detail = ("AE", findings[0].message) if findings else ("AA", "")
        if patient is not None and change == "demographics":
            self.store.update_patient(patient.ins, **wire.hl7_person(payload))
        elif patient is not None and change is not None:
            self.store.set_patient_status(patient.ins, change)
        patient = self.store.patient(patient_id[0]) if patient_id else None
        outer, message = wire.hl7_message("PRPA_IN201315UV02", payload, ack=ack, ack_detail=detail,
                                          wrapper="PRPA_IN201314UV02_Response")
        control = wire.hl7_element(message, "controlActProcess", classCode="CACT", moodCode="EVN")
        wire.copy_reason(control, payload)
        wire.registration_event(control, patient, demographics=False)
        body = wire.response_envelope(outer, "urn:hl7-org:v3:PRPA_IN201314ResponseUV02", ctx.request)
        return Outcome(body, findings, summary={"operation": operation}, label="OK" if ack == "AA" else "refusé")


    def set_authorization(self, ctx: Context) -> Outcome:
        ins = self._vihf_patient(ctx)
        action = wire.soap_text(ctx.request.payload, "action").upper()
        operation = "TD0.3"
        unknown = rules_patients.check_authorization_action(action)
        if unknown:
            raise Refused(Outcome(faults.refusal_fault(unknown[0]), unknown, status=500,
                                  summary={"operation": operation}))
        findings = self._rights(ctx, rules_patients.AUTHORIZATION_ACTIONS[action])
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = operation
            return refusal
        change, text, refused = rules_patients.judge_authorization(
            action, ins, self.store.patient(ins), self.store.authorization(ins, ctx.actor.id))
        if change == "add":
            name, speciality = self._professional(ctx)
            self.store.set_authorization(Authorization(ins, ctx.actor.id, name, ctx.actor.structure_id, speciality))
        elif change == "remove":
            self.store.remove_authorization(ins, ctx.actor.id)
        findings += refused
        status = "DMPKo" if refused else "DMPOk"
        root = wire.simple_output(wire.HAB, "setAuthorization", [("status", status), ("context", text)])
        body = wire.response_envelope(
            root, "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorizationResponse", ctx.request)
        return Outcome(body, findings, summary={"operation": operation, "action": action}, label=status)

    def list_authorizations(self, ctx: Context) -> Outcome:
        ins = self._vihf_patient(ctx)
        findings = self._rights(ctx, "TD1.6")
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = "TD1.6"
            return refusal
        mode = wire.soap_text(ctx.request.payload, "mode").upper() or "TOUTE"
        items: list[tuple[str, object]] = []
        for auth in self.store.authorizations(ins=ins):
            state = "ACTIVE" if auth.state == "VALIDE" else "INTERDITE"  # modeType of the WSDL
            if mode not in ("TOUTE", state):
                continue
            first, last = rules_patients.split_name(auth.actor_name)
            items.append(("listOfAuthorizationByPatient", [
                ("nationalId", auth.actor_id), ("nationalIdType", "1.2.250.1.71.4.2.1"),
                ("firstName", first), ("lastName", last),
                ("codeSpeciality", auth.speciality), ("libSpeciality", rules_patients.speciality_label(auth.speciality)),
                ("startOfAuthorization", stamp(auth.started_at)),
                ("lastActionDate", stamp(auth.updated_at)),
                ("mode", state),
            ]))
        root = wire.simple_output(wire.HAB, "listAuthorizationByPatient", [*items, ("status", "DMPOk"), ("context", None)])
        body = wire.response_envelope(
            root, "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatientResponse", ctx.request)
        return Outcome(body, findings, summary={"operation": "TD1.6", "resultats": len(items)})

    def patient_list(self, ctx: Context) -> Outcome:
        findings = self._rights(ctx, "TD0.4")
        refusal = self._hl7_refusal(ctx, findings)
        if refusal:
            refusal.summary["operation"] = "TD0.4"
            return refusal
        items: list[tuple[str, object]] = []
        for auth in self.store.authorizations(actor_id=ctx.actor.id):
            patient = self.store.patient(auth.ins)
            if patient is None or not rules_patients.in_patient_list(auth):
                continue
            items.append(("patientlistData", [
                ("patientIdentifier", [("nationalId", patient.dmp_id), ("nationalIdType", "1.2.250.1.213.1.4.2")]),
                ("patientIdentifier", [("nationalId", patient.ins), ("nationalIdType", patient.oid)]),
                ("lastName", patient.family), ("firstName", patient.given), ("dateOfBirth", patient.birth_date),
                ("MT", "true" if auth.treating_doctor else "false"), ("message", "false"),
                ("lastAccessDate", stamp(auth.updated_at)), ("lastUpdateDate", stamp(patient.updated_at)),
                ("lastAddDate", stamp(patient.last_add_at)),
            ]))
        root = wire.simple_output(wire.PAT, "patientList", [*items, ("status", "DMPOk")])
        body = wire.response_envelope(
            root, "urn:si-dmp-patients:PatientSpecificEndPoint:patientListResponse", ctx.request)
        return Outcome(body, findings, summary={"operation": "TD0.4", "resultats": len(items)})

    def patient_access(self, ctx: Context) -> Outcome:
        """TD1.5a/b/d (patient web account, OTP channel): removed from WSDL 2.01.04 since Mon espace
        santé; answered as the official examples show, with a note that they are obsolete."""
        self._vihf_patient(ctx)
        name = etree.QName(ctx.request.payload).localname
        operation = {"createPatientAccess": "TD1.5a", "patientOTPUpdate": "TD1.5b"}.get(name, "TD1.5d")
        fields: list[tuple[str, object]] = []
        if name != "patientOTPUpdate":
            fields = [("login", f"pat{secrets.token_hex(3)}"), ("password", secrets.token_urlsafe(6))]
        fields += [("status", "DMPOk"), ("context", "OTP mis à jour" if name == "patientOTPUpdate" else None)]
        root = wire.simple_output(wire.PAT, name, fields)
        body = wire.response_envelope(
            root, f"urn:si-dmp-patients:PatientSpecificEndPoint:{name}Response", ctx.request)
        return Outcome(body, [rules_patients.obsolete(operation, name)], summary={"operation": operation})

