"""Template helpers of the analyst pages: everything goes through format_html (escaped)."""

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def bilingual(name_en, name_zh=""):
    """A name in both scripts where known: the active language's script first."""
    name_en, name_zh = name_en or "", name_zh or ""
    if not name_zh or name_zh == name_en:
        return format_html("{}", name_en)
    if get_language() == "zh-hans":
        return format_html(
            '<span lang="zh-Hans">{}</span> <span class="alt">{}</span>', name_zh, name_en
        )
    return format_html('{} <span class="alt" lang="zh-Hans">{}</span>', name_en, name_zh)


@register.filter
def localized_name(obj):
    """name_zh in Chinese when known, else name_en (for compact places like breadcrumbs)."""
    if get_language() == "zh-hans" and getattr(obj, "name_zh", ""):
        return obj.name_zh
    return getattr(obj, "name_en", str(obj))


@register.filter
def choice_label(value, choices):
    """Label of a stored choice value, e.g. {{ company.modalities|... }} per item."""
    return dict(choices).get(value, value)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def amount(value):
    """A decimal amount with thousands separators, no trailing .00."""
    if value in (None, ""):
        return ""
    try:
        text = f"{float(value):,.2f}"
    except (TypeError, ValueError):
        return value
    return text[:-3] if text.endswith(".00") else text


@register.simple_tag(takes_context=True)
def page_url(context, number):
    """The current list URL with only the page number changed."""
    query = context.get("querystring", "")
    return f"?{query}&page={number}" if query else f"?page={number}"


@register.filter
def metric_tables(metric) -> str:
    """The tables a stored metric was computed from (its family's lineage), comma-separated."""
    from portal.metrics import registry

    family = registry.family_of(metric.subject_type, metric.name)
    return ", ".join(family.tables) if family else ""
