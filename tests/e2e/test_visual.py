"""Visual checks: every page each demo role reaches from its dashboard, on a 390 x 844 phone and at 1280 px,
in English, Norwegian and Swedish.

For each page it asserts that the page does not scroll sideways and hides nothing behind a sideways scroll,
that no form label is narrower than its longest word, that interactive elements do not overlap, that chart
text is legible (>= 12 px), that buttons and the header's items stay on one line at 1280 px, and that axe
finds nothing serious or critical. It saves a full-page screenshot of each page, width and language under
``test-artifacts/screenshots/`` (``RESIDENCY_SCREENSHOTS`` to change): CI keeps that folder as an artefact.

One browser for the run; one context per role, language and width (the login is made once per role and its
cookies handed to each context).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from residency.demo import PASSWORD, seed

pytestmark = pytest.mark.e2e

ROLES = {
    "startup": "startup@demo.test",
    "cluster": "cluster@demo.test",
    "hub": "hub@demo.test",
    "funder": "funder@demo.test",
    "admin": "admin@demo.test",
}
LANGUAGES = {"en": "en-GB", "nb": "nb-NO", "sv": "sv-SE"}
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
# Reached from every logged-in page (the notifications page links it), not from the dashboards themselves.
EXTRA_PAGES = ["/api/tokens", "/exports/", "/account/notifications"]
SCREENSHOTS = Path(os.environ.get("RESIDENCY_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"))

# Everything measured in the page itself; returns a list of plain sentences, one per problem.
CHECKS = r"""
(desktop) => {
  const problems = [];
  const visible = (el) => el.checkVisibility({visibilityProperty: true, opacityProperty: true});
  const describe = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.getAttribute('name') || '')
      .trim().replace(/\s+/g, ' ').slice(0, 40);
    return `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}> "${text}"`;
  };
  const vw = window.innerWidth;
  const scroller = document.scrollingElement;
  if (scroller.scrollWidth > vw) problems.push(`the page scrolls sideways: ${scroller.scrollWidth} px wide in a ${vw} px window`);

  // Nothing hidden behind a sideways scroll inside the page (wide tables in an overflow-auto box).
  for (const el of document.querySelectorAll('body *')) {
    if (['TEXTAREA', 'SELECT', 'INPUT'].includes(el.tagName)) continue;
    const ox = getComputedStyle(el).overflowX;
    if ((ox === 'auto' || ox === 'scroll') && el.scrollWidth > el.clientWidth + 1 && visible(el))
      problems.push(`${describe(el)} hides ${el.scrollWidth - el.clientWidth} px behind a sideways scroll`);
  }

  // No label narrower than its longest word (measured in the label's own font).
  const ctx = document.createElement('canvas').getContext('2d');
  for (const label of document.querySelectorAll('label')) {
    if (!visible(label)) continue;
    const width = label.getBoundingClientRect().width;
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    let longest = 0, word = '';
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || !visible(parent) || parent.closest('select, textarea, option')) continue;
      const cs = getComputedStyle(parent);
      ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      for (const w of node.data.split(/\s+/)) {
        if (!w) continue;
        const m = ctx.measureText(w).width;
        if (m > longest) { longest = m; word = w; }
      }
    }
    if (longest > width + 1) problems.push(`label ${describe(label)} is ${Math.round(width)} px wide, narrower than its word "${word}" (${Math.round(longest)} px)`);
  }

  // Interactive elements (and headings) do not overlap one another.
  const interactive = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  const boxes = [];
  for (const el of document.querySelectorAll(interactive + ', h1, h2, h3, h4')) {
    if (!visible(el)) continue;
    const heading = /^H\d$/.test(el.tagName);
    for (const r of el.getClientRects()) if (r.width > 0.5 && r.height > 0.5) boxes.push({el, r, heading});
  }
  const seen = new Set();
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.heading && b.heading) continue;
      if (a.el === b.el || a.el.contains(b.el) || b.el.contains(a.el)) continue;
      const ox = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const oy = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (ox > 1 && oy > 1) {
        const key = describe(a.el) + ' / ' + describe(b.el);
        if (!seen.has(key)) { seen.add(key); problems.push(`${describe(a.el)} overlaps ${describe(b.el)}`); }
      }
    }
  }

  // Chart text legible: at least 12 px as drawn.
  for (const t of document.querySelectorAll('svg text')) {
    if (!visible(t) || !t.textContent.trim()) continue;
    const ctm = t.getScreenCTM();
    const size = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b);
    if (size < 11.95) { problems.push(`chart text "${t.textContent.trim().slice(0, 30)}" is drawn ${size.toFixed(1)} px high`); break; }
  }

  // At 1280 px a button's words and the header's items stay on one line.
  if (desktop) {
    const lines = (el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      const tops = new Set();
      for (const r of range.getClientRects()) if (r.width > 0.5) tops.add(Math.round(r.top / 4));
      return tops.size;
    };
    for (const el of document.querySelectorAll('button, [role=button], header nav a, header nav summary')) {
      if (visible(el) && el.textContent.trim() && lines(el) > 1) problems.push(`${describe(el)} wraps onto ${lines(el)} lines`);
    }
  }
  return problems;
}
"""


@pytest.fixture
def demo(app):
    seed()


def _shape(url: str) -> str:
    """Pages of one kind are checked once: /cluster/call/3 and /cluster/call/4 are the same page."""
    parts = urlsplit(url)
    keys = sorted({kv.split("=")[0] for kv in parts.query.split("&") if kv})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def _log_in(browser, live_server, email):
    context = browser.new_context(base_url=live_server, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/account/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/account/login" not in url)
    dashboard = urlsplit(page.url).path
    hrefs = page.eval_on_selector_all(
        "header a[href], main a[href]",
        "els => els.filter(a => !a.hasAttribute('download')).map(a => a.href)",
    )
    pages, shapes = [dashboard], {_shape(dashboard)}
    for href in hrefs + [live_server + p for p in EXTRA_PAGES]:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != live_server or not parts.path:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if _shape(path) in shapes:
            continue
        response = context.request.get(path, max_redirects=0)
        if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        shapes.add(_shape(path))
        pages.append(path)
    state = context.storage_state()
    context.close()
    return state, pages


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"


def _check_pages(browser, live_server, axe, state, pages, folder_name) -> list[str]:
    """Every page at both widths in the three languages: a screenshot each, and the problems found."""
    problems: list[str] = []
    shutil.rmtree(SCREENSHOTS / folder_name, ignore_errors=True)
    for language, locale in LANGUAGES.items():
        for width_name, viewport in WIDTHS.items():
            folder = SCREENSHOTS / folder_name / f"{language}-{viewport['width']}"
            folder.mkdir(parents=True, exist_ok=True)
            context = browser.new_context(base_url=live_server, locale=locale, storage_state=state, viewport=viewport)
            page = context.new_page()
            page.set_default_timeout(15_000)
            try:
                for path in pages:
                    where = f"{path} ({language}, {viewport['width']} px)"
                    response = page.goto(path)
                    if response is None or response.status != 200:
                        problems.append(f"{where}: answered {response.status if response else 'nothing'}")
                        continue
                    page.wait_for_load_state("load")
                    page.screenshot(path=str(folder / f"{_slug(path)}.png"), full_page=True)
                    problems += [f"{where}: {p}" for p in page.evaluate(CHECKS, width_name == "desktop")]
                    problems += [f"{where}: axe {v['id']} ({v['impact']}) {v['targets']}" for v in axe(page)]
            finally:
                context.close()
    return problems


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_of_the_role_fits_phone_and_desktop_in_three_languages(demo, browser, live_server, axe, role):
    state, pages = _log_in(browser, live_server, ROLES[role])
    assert len(pages) > 3, pages
    problems = _check_pages(browser, live_server, axe, state, pages, role)
    assert not problems, f"{len(problems)} problems on {len(pages)} pages:\n" + "\n".join(problems)


def test_the_form_builder_fits_phone_and_desktop_in_three_languages(demo, browser, live_server, axe):
    """The call form builder (issue 15) is a few clicks from the dashboard: its overview, a question's
    editor of each shape, a new question and the preview."""
    from sqlalchemy import select

    from residency.core.extensions import db
    from residency.domain.programme.models import Call

    call_id = db.session.scalar(select(Call.id).where(Call.status == "published").order_by(Call.id))
    state, _pages = _log_in(browser, live_server, ROLES["admin"])
    base = f"/admin/calls/{call_id}/form"
    pages = [base, f"{base}/questions/summary", f"{base}/questions/months", f"{base}/questions/attachments",
             f"{base}/questions/new?kind=single_choice&section_key=company", f"{base}/questions/new?kind=money",
             f"{base}/questions/new?kind=file", f"{base}/preview?lang=nb"]
    problems = _check_pages(browser, live_server, axe, state, pages, "form-builder")
    assert not problems, f"{len(problems)} problems on {len(pages)} pages:\n" + "\n".join(problems)


def test_the_checks_can_fail(browser):
    """The measurements are real: a one-letter-wide label, overlapping buttons, a sideways scroll and tiny
    chart text are each reported (on a page of its own: the service's policy forbids inline styles)."""
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    page.set_content("""<main>
      <label for="narrow" style="display:block;width:12px">Track</label><input id="narrow">
      <div><button id="one" style="position:relative">One</button><button id="two" style="position:relative;left:-30px">Two</button></div>
      <div style="width:3000px;height:4px"></div>
      <svg viewBox="0 0 2000 100" style="width:400px"><text x="0" y="50" style="font-size:12px">Tiny</text></svg>
      <p><button style="width:40px">Show applications</button></p></main>""")
    problems = "\n".join(page.evaluate(CHECKS, True))
    context.close()
    assert 'narrower than its word "Track"' in problems
    assert 'overlaps <button#two> "Two"' in problems
    assert "the page scrolls sideways" in problems
    assert 'chart text "Tiny"' in problems
    assert '"Show applications" wraps onto' in problems


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_skip_link_moves_focus_into_main(demo, browser, live_server, width_name):
    state, _ = _log_in(browser, live_server, ROLES["cluster"])
    context = browser.new_context(base_url=live_server, locale="en-GB", storage_state=state, viewport=WIDTHS[width_name])
    page = context.new_page()
    page.goto("/cluster/queue")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    inside_main = "() => !!document.activeElement.closest('main')"
    assert page.evaluate(inside_main)
    page.keyboard.press("Tab")
    assert page.evaluate(inside_main)
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_phone_header_is_a_menu_that_opens_by_keyboard_and_reaches_log_out(demo, browser, live_server, javascript):
    state, _ = _log_in(browser, live_server, ROLES["admin"])
    context = browser.new_context(base_url=live_server, locale="nb-NO", storage_state=state,
                                  viewport=WIDTHS["phone"], java_script_enabled=javascript)
    page = context.new_page()
    page.goto("/admin/")
    log_out = page.get_by_role("button", name="Logg ut")
    assert not log_out.is_visible()
    menu = page.locator("header summary")
    menu.focus()
    page.keyboard.press("Enter")
    log_out.wait_for(state="visible")
    box = log_out.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= 390
    log_out.click(trial=True)  # visible, in the window, not covered by anything
    language = page.locator("footer").get_by_role("button")
    language.scroll_into_view_if_needed()
    box = language.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= 390
    language.click(trial=True)
    context.close()
