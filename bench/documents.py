"""Document factory: generation speed (documents/s per type) and the cost of what follows it.

Prints, side by side for every document type: documents generated per second, mean size, and
the per-document cost of XDS metadata derivation + ebRIM serialisation, of an XDM archive, and of
the N1 checks (PDF/A metadata, datamatrix decoding). Validation by the full engine is measured
by `bench/validate.py`. Run: `.venv/bin/python bench/documents.py [--seconds 2]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime

from lxml import etree

from banc import xds
from banc.cda.n1 import check_n1
from banc.documents import factory, parties
from banc.documents.header import DocumentContext, paris_zone
from banc.population import generated_identities

SSIAD = parties.Organization(
    "1750012345", "SSIAD du Val de Seine", practice_setting=parties.HOME_CARE_PRACTICE
)
CABINET = parties.Organization(
    "3123456789",
    "Cabinet du Dr Martin",
    facility_type=parties.CABINET_FACILITY,
    practice_setting=parties.AMBULATORY_PRACTICE,
)
HOSPITAL = parties.Organization(
    "1920000001",
    "Centre hospitalier",
    facility_type=parties.HOSPITAL_FACILITY,
    practice_setting=parties.HOSPITAL_PRACTICE,
)
NURSE = parties.Practitioner("810001234567", "DURAND", "Claire", SSIAD, specialty=parties.NURSE)
GP = parties.Practitioner("810009876543", "MARTIN", "Paul", CABINET, title="DR")
PHYSICIAN = parties.Practitioner(
    "810005555555", "LEROY", "Anne", HOSPITAL, specialty=parties.PHYSICIAN, title="DR"
)
AUTHORS = {"LDL-SES": PHYSICIAN, "VSM": GP, "eP-MED-DM": GP}


def rate(action: Callable[[int], None], seconds: float) -> tuple[float, int]:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds or done < 3:
        action(done)
        done += 1
    return done / (time.perf_counter() - started), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="durée de mesure par type")
    args = parser.parse_args()
    identities = generated_identities(50, seed=7)
    when = datetime(2024, 5, 6, 10, 30, tzinfo=paris_zone())

    def context(i: int, kind: str) -> DocumentContext:
        return DocumentContext(
            identity=identities[i % len(identities)],
            author=AUTHORS.get(kind, NURSE),
            when=when,
            seed=i,
            recipients=(parties.Recipient(practitioner=GP),),
        )

    header = f"{'type':<10} {'docs/s':>8} {'taille moy.':>12} {'XDS ms/doc':>11} {'XDM ms/doc':>11} {'N1 ms/doc':>10}"
    print(header)
    print("-" * len(header))
    for kind in factory.KINDS:
        sizes: list[int] = []
        generated = []

        def generate(
            i: int, kind: str = kind, sizes: list[int] = sizes, generated: list = generated
        ) -> None:
            doc = factory.generate(kind, context(i, kind))
            sizes.append(len(doc.xml))
            if len(generated) < 20:
                generated.append(doc)

        per_second, _ = rate(generate, args.seconds)
        started = time.perf_counter()
        for doc in generated:
            etree.tostring(xds.to_submit_objects_request(factory.submission(doc)))
        xds_ms = (time.perf_counter() - started) * 1000 / len(generated)
        started = time.perf_counter()
        for doc in generated:
            factory.xdm(doc)
        xdm_ms = (time.perf_counter() - started) * 1000 / len(generated)
        n1_ms = ""
        if kind == "N1":
            started = time.perf_counter()
            for doc in generated:
                check_n1(doc.root)
            n1_ms = f"{(time.perf_counter() - started) * 1000 / len(generated):.1f}"
        print(
            f"{kind:<10} {per_second:>8.1f} {sum(sizes) / len(sizes) / 1024:>9.1f} Ko {xds_ms:>11.2f} {xdm_ms:>11.2f} {n1_ms:>10}"
        )


if __name__ == "__main__":
    main()
