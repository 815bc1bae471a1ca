"""Estimate subsidies for a company in the database, or for an investor scenario file."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from companies.models import Company
from policies.services import (
    SubsidyScenarioError,
    subsidy_estimate_for_company,
    subsidy_estimate_for_scenario,
)


class Command(BaseCommand):
    help = (
        "Estimate subsidies with the rules engine: --company SLUG --year YYYY (facts from the "
        "database as of Dec 31) or --scenario FILE.json (docs/subsidy-rules.md). Prints each "
        "rule's status, reasons, amounts, condition checks, caps and citation; --json prints "
        "the raw result."
    )

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--company", metavar="SLUG", help="company slug")
        target.add_argument("--scenario", metavar="FILE", help="scenario JSON file")
        parser.add_argument("--year", type=int, help="calendar year (with --company)")
        parser.add_argument("--json", action="store_true", help="print the raw result as JSON")

    def handle(self, *args, **options):
        try:
            if options["company"]:
                result = self._for_company(options["company"], options["year"])
            else:
                if options["year"] is not None:
                    raise CommandError("--year goes with --company; a scenario has its as_of")
                result = subsidy_estimate_for_scenario(data=_read_json(options["scenario"]))
        except SubsidyScenarioError as error:
            lines = [
                f"  {field}: {'; '.join(messages)}" for field, messages in error.errors.items()
            ]
            raise CommandError("Invalid input:\n" + "\n".join(lines)) from error
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(render_estimate(result))

    def _for_company(self, slug: str, year: int | None) -> dict:
        if year is None:
            raise CommandError("--year is required with --company")
        company = Company.objects.filter(slug=slug).first()
        if company is None:
            raise CommandError(f"No company with slug {slug!r}.")
        return subsidy_estimate_for_company(company=company, year=year)


def _read_json(path: str) -> object:
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CommandError(f"{path} is not valid JSON: {error}") from error


def render_estimate(result: dict) -> str:
    """The estimate as readable text: totals, then each rule with its full trace."""
    currency = result["currency"] or ""
    lines = [
        f"Subsidy estimate as of {result['as_of']}",
        f"Total: {result['total']} {currency}".rstrip(),
    ]
    for year, amount in result["by_year"].items():
        lines.append(f"  {year}: {amount} {currency}")
    if not result["results"]:
        lines.append("No subsidy rules apply by this date.")
    for rule in result["results"]:
        lines += ["", *_render_rule(rule)]
    return "\n".join(lines)


def _render_rule(rule: dict) -> list[str]:
    currency = rule["currency"]
    lines = [
        f"== {rule['rule']}: {rule['name']}",
        f"Status: {rule['status']}",
        f"Amount: {rule['amount_before_caps']} before caps, "
        f"{rule['amount_after_caps']} {currency} after caps",
    ]
    for year, amounts in rule["by_year"].items():
        lines.append(
            f"  {year}: {amounts['amount_before_caps']} before caps, "
            f"{amounts['amount_after_caps']} after caps"
        )
    if rule["items"]:
        lines.append("Items:")
    for item in rule["items"]:
        product = f", product {item['product']}" if item["product"] else ""
        base = f" of {item['base_amount']}" if item["base_amount"] else ""
        capped = f" (capped by {', '.join(item['capped_by'])})" if item["capped_by"] else ""
        lines.append(
            f"  {item['reference']} ({item['date']}{product}): {item['basis']}{base}: "
            f"{item['amount_before_caps']} -> {item['amount_after_caps']}{capped}"
        )
    if rule["reasons"]:
        lines.append("Reasons:")
    for reason in rule["reasons"]:
        lines.append(f"  - [{reason['code']}] {reason['message']}")
    lines.append("Conditions:")
    other_kinds = []
    for check in rule["trace"]["conditions"]:
        if check["fact"] == "event.kind" and check["outcome"] == "fail":
            other_kinds.append(f"{check['subject']} ({check['actual']})")
            continue  # not the kind of event this rule is about: listed once below
        value = "" if check["value"] is None else f" {_show(check['value'])}"
        implicit = " (implicit)" if check["implicit"] else ""
        lines.append(
            f"  {check['outcome'].upper():<7} {check['subject']}: {check['fact']} {check['op']}"
            f"{value}; actual {_show(check['actual'], check['op'])}{implicit}"
        )
    if other_kinds:
        lines.append(f"  Events of other kinds, not considered: {', '.join(other_kinds)}")
    if rule["trace"]["caps"]:
        lines.append("Caps:")
    for cap in rule["trace"]["caps"]:
        if cap["kind"] == "cap_group":
            name = f"cap group {cap['code']} in {cap['year']}"
            group = f", all rules of the group {cap['group_total_before']} before the cap"
        else:
            name, group = f"per-item cap on {cap['subject']}", ""
        bound = "bound" if cap["bound"] else "not bound"
        lines.append(
            f"  {name}: limit {cap['limit']}, this rule {cap['before']} -> {cap['after']}"
            f"{group}, {bound}"
        )
    citation = rule["trace"]["citation"]
    lines += [
        f"Citation: provision {citation['path']} of {citation['source_title']} "
        f"({citation['source_file']})",
        f'  "{citation["excerpt"]}"',
    ]
    return lines


def _show(value, op: str = "") -> str:
    if value is None:
        return "unknown"
    if isinstance(value, list):
        # A region fact is its path from the root; other lists are sets of slugs.
        return (" > " if op == "within" else ", ").join(value) if value else "none"
    return str(value)
