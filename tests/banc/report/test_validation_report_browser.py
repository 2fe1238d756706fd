"""The validation report in a headless Chromium: the rendered document's table of contents and
buttons work inside their sandboxed frame, which stays in its own opaque origin."""

from __future__ import annotations

from pathlib import Path

from banc.cda.render import render_html
from banc.report import to_html
from banc.verdict import Verdict


def test_rendered_document_table_of_contents_works(reference: Path, tmp_path: Path, browser) -> None:
    example = reference / "ans-testcontenucda-3.0" / "ExemplesCDA" / "VSM_1.4_2022.01.xml"
    page_file = tmp_path / "validation.html"
    page_file.write_text(to_html([Verdict(example.name)], render=lambda v: render_html(example)), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(page_file.as_uri())
        page.locator("details summary").first.click()
        frame = page.frames[1]
        frame.evaluate("document.querySelector('a[href^=\"#section\"]').click()")
        page.wait_for_timeout(200)
        assert frame.url.startswith("about:srcdoc#section") and page.url == page_file.as_uri()
        assert frame.evaluate("window.scrollY") > 0
        hidden = "[...document.querySelectorAll('*')].filter(e => getComputedStyle(e).display == 'none').length"
        before = frame.evaluate(hidden)
        frame.evaluate("document.querySelector('[onclick*=collapseAllSections]').click()")
        assert frame.evaluate(hidden) > before  # the stylesheet's scripts run
        assert frame.evaluate("(() => { try { return parent.document.title } catch (e) { return 'isolé' } })()") == "isolé"
        assert errors == []
    finally:
        page.close()
