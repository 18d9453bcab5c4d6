"""No text in a template that bypasses the catalogs.

Jinja comments, {% trans %} blocks, statements and expressions are removed;
whatever letters are left in a text node, or in an attribute people read,
were written straight into the HTML and cannot get a Finland-Swedish variant.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Comment, Doctype

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
READ_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder")

# Text that may stay in the markup, with the reason. Keep it short.
ALLOWED: dict[str, str] = {}

COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
TRANS = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.DOTALL)
STATEMENT = re.compile(r"\{%.*?%\}", re.DOTALL)
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
LETTER = re.compile(r"[^\W\d_]")


def without_jinja(source: str) -> str:
    for pattern in (COMMENT, TRANS, STATEMENT, EXPRESSION):
        source = pattern.sub(" ", source)
    return source


def hardcoded_text(source: str) -> list[str]:
    soup = BeautifulSoup(without_jinja(source), "html.parser")
    found = []
    for node in soup.find_all(string=True):
        if isinstance(node, (Comment, Doctype)) or node.parent.name in {"script", "style"}:
            continue
        text = " ".join(node.split())
        if LETTER.search(text) and text not in ALLOWED:
            found.append(f"text {text!r}")
    for tag in soup.find_all(True):
        for attribute in READ_ATTRIBUTES:
            value = " ".join(str(tag.get(attribute, "")).split())
            if LETTER.search(value) and value not in ALLOWED:
                found.append(f"{attribute}={value!r} on <{tag.name}>")
    return found


TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_hardcoded_text(path: Path):
    found = hardcoded_text(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(TEMPLATES)}: put this in {{% trans %}}: {found}"


def test_the_check_finds_hardcoded_text():
    source = (
        '{% trans %}Hej{% endtrans %} <p>Logga in</p>'
        '<nav aria-label="Meny"></nav><img alt="{{ x }}"><a title="{% trans %}Ok{% endtrans %}">'
        "{# a comment #}{{ _('Start') }}</a>"
    )
    assert hardcoded_text(source) == ["text 'Logga in'", "aria-label='Meny' on <nav>"]


def test_there_are_templates():
    assert len(TEMPLATE_FILES) > 10
