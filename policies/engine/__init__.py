"""Subsidy rules engine: plain Python over plain data (no Django, no DB).

See docs/subsidy-rules.md for the rule JSON, the condition vocabulary and the result shape.
"""

from .evaluate import (
    CapApplication,
    ConditionCheck,
    Estimate,
    Item,
    Outcome,
    Reason,
    RuleResult,
    Status,
    YearAmounts,
    evaluate,
)
from .facts import CompanyFacts, Event, Facts, RegionRef
from .rules import (
    Benefit,
    CapGroup,
    Condition,
    Provision,
    Rule,
    RuleValidationError,
    ValidationIssue,
    parse_cap_group,
    parse_rule,
    validate_rule_data,
)
from .scenario import ScenarioError, parse_scenario

__all__ = [
    "Benefit",
    "CapApplication",
    "CapGroup",
    "CompanyFacts",
    "Condition",
    "ConditionCheck",
    "Estimate",
    "Event",
    "Facts",
    "Item",
    "Outcome",
    "Provision",
    "Reason",
    "RegionRef",
    "Rule",
    "RuleResult",
    "RuleValidationError",
    "ScenarioError",
    "Status",
    "ValidationIssue",
    "YearAmounts",
    "evaluate",
    "parse_cap_group",
    "parse_rule",
    "parse_scenario",
    "validate_rule_data",
]
