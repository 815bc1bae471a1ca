"""No template renders user or curated text unescaped."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNSAFE = re.compile(r"\|\s*safe\b|\|\s*safeseq\b|{%\s*autoescape\s+off\s*%}")


def portal_templates():
    paths = [p for p in (ROOT / "templates").rglob("*.html") if "admin" not in p.parts]
    paths += list((ROOT / "portal" / "templatetags").rglob("*.py"))
    return paths


def test_there_are_templates_to_check():
    assert len(portal_templates()) > 20


@pytest.mark.parametrize("path", portal_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unescaped_output(path):
    text = path.read_text()
    assert not UNSAFE.search(text)
    assert "mark_safe(" not in text and "SafeString(" not in text


def test_the_check_sees_unsafe_markup(tmp_path):
    assert UNSAFE.search("{{ company.description|safe }}")
    assert UNSAFE.search("{% autoescape off %}{{ x }}{% endautoescape %}")


@pytest.mark.django_db
def test_curated_markup_is_escaped_on_pages(client):
    from tests.factories import CitationFactory, CompanyFactory, FacilityFactory

    evil = '<img src=x onerror="alert(1)">'
    company = CompanyFactory(slug="evil", name_en=evil, name_zh=evil, description=evil)
    CitationFactory(subject=company, excerpt=evil)
    FacilityFactory(slug="evil-site", company=company, name_en=evil)
    for url in ("/companies/", company.get_absolute_url(), "/facilities/", "/search/?q=img"):
        body = client.get(url).content.decode()
        assert evil not in body, url
        assert "&lt;img src=x" in body, url
