"""The reference DUI as a declared DUI: the profile any vendor writes for their own DUI."""

from __future__ import annotations

from banc.directory import Directory, default_directory
from banc.dui import DuiProfile, Mailbox
from banc.sheet import ANNUAIRE_API_KEY, INSI_IDAM, PSC_CLIENT, BenchSheet

NAME = "dui-reference"
REDIRECT_URI = "http://127.0.0.1:8765/retour-psc"


def reference_profile(sheet: BenchSheet, directory: Directory | None = None) -> DuiProfile:
    """The reference DUI's parts: the bench's test certificates and identifiers."""
    directory = directory or default_directory()
    nurse = directory.person("infirmiere_coordinatrice")
    pki = sheet.pki
    return DuiProfile(
        name=NAME, label="DUI de référence du Banc Ségur", editor="Banc Ségur",
        idam=INSI_IDAM["idam"], software=INSI_IDAM["logiciel"], software_version="1.0",
        psc_client_id=PSC_CLIENT["client_id"], psc_secret=PSC_CLIENT["secret"],
        psc_redirect_uris=(REDIRECT_URI,),
        mailboxes=(Mailbox(nurse.mailbox.address if nurse.mailbox else "", "xoauth2"),
                   Mailbox(directory.ssiad_app_mailbox.address, "certificat")),
        structure_id=directory.ssiad.national_id, lps_id="BANC-SEGUR-DUI",
        lps_name="DUI DE REFERENCE DU BANC", lps_version="1.0",
        vihf_certificates=(pki.cert("vihf-signing").read_text(),),
        client_certificates=(pki.cert("dui").read_text(), pki.cert("insi-auto").read_text()),
        annuaire_api_key=ANNUAIRE_API_KEY,
    )
