"""Capture a DUI's real traffic and judge it offline with the mocks' own checks.

`recorder` runs mitmproxy (reverse or forward proxy) between a DUI and a service — a real ANS /
CNAM test platform or the bench's own mocks — and saves every HTTP flow to one file per
recording session. `flows` reads such a file back, `classify` says which service each exchange
belongs to, `replay` imports a capture into the journal by replaying each request into that
service's mock in-process (the very same classification, rules and journal summary as live
traffic), keeping the upstream's real response beside the mock's judgement. `report` prints
the imported exchanges, with names and INS masked on request. See docs/capture.md.
"""
