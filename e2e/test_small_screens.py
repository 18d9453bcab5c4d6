"""Reflow (WCAG 1.4.10) and target size (2.5.8; the portal's own rule is 44x44)."""

from __future__ import annotations

import re

import pytest
from conftest import open_menu, shot
from playwright.sync_api import Page, expect

# Every visible link, button and menu toggle in the header, the acting banner, the
# navigation, the main content and the footer. Links inside running text (a
# paragraph or list item with other words around the link) are exempt, as in
# WCAG 2.5.8: their size is set by the line height of the text around them.
SMALL_TARGETS = """() => {
    const selector = 'a[href], button, summary, input:not([type=hidden]), select, textarea';
    const areas = document.querySelectorAll('header, .acting-banner, nav, main, footer');
    const seen = new Set();
    const small = [];
    for (const area of areas) {
        for (const el of area.querySelectorAll(selector)) {
            if (seen.has(el)) continue;
            seen.add(el);
            const r = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
            if (el.closest('details:not([open]) > :not(summary)')) continue;
            if (style.display === 'inline') {
                const block = el.closest('p, li, dd, td');
                const words = block ? block.textContent.replace(/\\s+/g, ' ').trim() : '';
                const own = el.textContent.replace(/\\s+/g, ' ').trim();
                if (block && words !== own) continue;  // inline in running text
            }
            if (r.width < 44 - 0.5 || r.height < 44 - 0.5) {
                small.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || '').trim().slice(0, 40)}"`
                           + ` in <${area.tagName.toLowerCase()}${area.className ? '.' + area.className : ''}>:`
                           + ` ${r.width.toFixed(1)}x${r.height.toFixed(1)}`);
            }
        }
    }
    return small;
}"""

OVERFLOW = """() => {
    const doc = document.documentElement;
    const wide = [];
    if (doc.scrollWidth > window.innerWidth) {
        for (const el of document.body.querySelectorAll('*')) {
            const r = el.getBoundingClientRect();
            if (r.right > window.innerWidth + 0.5 && r.width > 0) {
                wide.push(`${el.tagName.toLowerCase()}.${el.className}: right edge ${r.right.toFixed(1)}`);
            }
        }
    }
    return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, wide: wide.slice(0, 10)};
}"""


def assert_fits(page: Page, label: str) -> None:
    result = page.evaluate(OVERFLOW)
    assert result["scrollWidth"] <= result["innerWidth"], (
        f"{label}: horizontal scrolling at {result['innerWidth']} CSS px "
        f"(content is {result['scrollWidth']} px wide): {result['wide']}")


def assert_targets(page: Page, label: str) -> None:
    small = page.evaluate(SMALL_TARGETS)
    assert not small, f"{label}: targets smaller than 44x44 CSS px:\n  " + "\n  ".join(small)


def check_screen(page: Page, label: str, name: str) -> None:
    assert_fits(page, label)
    assert_targets(page, label)
    shot(page, name)


@pytest.mark.parametrize(
    ("viewport", "scale", "tag"),
    [
        ({"width": 320, "height": 640}, 1, "320px"),
        # A 390 px phone at 200 % zoom: 195 CSS px wide, drawn with twice the pixels.
        ({"width": 195, "height": 422}, 2, "390px-zoom200"),
    ],
    ids=["320px", "390px-zoom200"],
)
def test_pages_fit_small_screens(new_page, viewport: dict, scale: int, tag: str) -> None:
    page: Page = new_page(viewport=viewport, device_scale_factor=scale)
    page.goto("/")
    check_screen(page, "anonymous start", f"small-{tag}-start-anonymous")

    page.get_by_role("link", name="Logga in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dev-idp/authorize\?"))
    check_screen(page, "provider page", f"small-{tag}-provider")

    page.get_by_role("button", name=re.compile(r"^Johan Andersson\b")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hej Johan!")
    check_screen(page, "start with the choice list", f"small-{tag}-start-johan")

    page.get_by_role("button", name=re.compile(r"^Viola Andersson\b")).click()
    expect(page.get_by_role("region", name="Du använder tjänsten för någon annan")).to_be_visible()
    check_screen(page, "start acting for Viola", f"small-{tag}-start-acting")

    open_menu(page)
    check_screen(page, "menu open", f"small-{tag}-menu-open")

    page.goto("/tillganglighet")
    check_screen(page, "accessibility statement", f"small-{tag}-accessibility")
