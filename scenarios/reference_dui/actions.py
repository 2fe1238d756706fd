"""The reference DUI: every action of the automation protocol, one module per national service.

It is a real client of every mock — httpx for Pro Santé Connect (code flow with PKCE through the
login page, as a browser would) and the Annuaire, zeep from the served WSDL over mutual TLS for
INSi, the DMP client with a VIHF it signs itself, smtplib/imaplib with XOAUTH2 for MSSanté — and
reads every address from the bench's configuration sheet, like a vendor's DUI would. Each public
method is an action of the protocol (`banc.scenario.protocol`), called by the protocol server
(`app.py`) with the action's parameters; the bench judges what the mocks saw, never the return
value. Its profile (`profile.reference_profile`) is declared like any vendor's DUI.
"""

from __future__ import annotations

from scenarios.reference_dui.annuaire import AnnuaireActions
from scenarios.reference_dui.dashboard import DashboardActions
from scenarios.reference_dui.dmp_consultation import DmpConsultationActions
from scenarios.reference_dui.insi import InsiActions
from scenarios.reference_dui.mssante import MssanteActions
from scenarios.reference_dui.psc import PscActions


class ReferenceDui(PscActions, AnnuaireActions, InsiActions, DmpConsultationActions, MssanteActions, DashboardActions):
    """One run's session of the reference DUI (see `base.DuiBase` for its state)."""
