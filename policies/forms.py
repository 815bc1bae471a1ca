"""The subsidy calculator form: a company scenario plus a fixed number of event rows.

A fixed set of rows (blank ones ignored) keeps the page working without JavaScript. The
form only shapes input into the scenario JSON the engine reads (docs/subsidy-rules.md) and
maps the engine's field errors back onto the fields that caused them.
"""

from __future__ import annotations

import datetime
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from companies.choices import Modality, OwnershipType

EVENT_ROWS = 5
EVENT_KIND_CHOICES = [
    ("market_authorization", _("Market authorization")),
    ("commercialization", _("Commercialization")),
    ("liability_insurance_premium", _("Liability insurance premium")),
    ("investment", _("Investment")),
    ("clinical_trial_approval", _("Clinical trial approval")),
]
_EVENT_ERROR = re.compile(r"^events\[(\d+)\]\.(\w+)")


class ScenarioForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of"),
        initial=datetime.date.today,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    registered_region = forms.ChoiceField(label=_("Registered region"), required=False)
    ownership = forms.ChoiceField(
        label=_("Ownership"),
        required=False,
        choices=[("", "—"), *OwnershipType.choices],
    )
    modalities = forms.MultipleChoiceField(
        label=_("Modalities"),
        required=False,
        choices=Modality.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registered_region"].choices = [("", "—"), *regions]
        self.event_forms = [
            EventForm(*args, prefix=f"event-{index}", regions=regions, **kwargs)
            for index in range(EVENT_ROWS)
        ]
        self._event_positions: list[int] = []

    def is_valid(self) -> bool:
        # Every row is validated (not short-circuited) so all errors show at once.
        results = [super().is_valid()] + [row.is_valid() for row in self.event_forms]
        return all(results)

    def to_scenario(self) -> dict:
        """The engine's scenario JSON; blank event rows are left out."""
        data = self.cleaned_data
        events = []
        self._event_positions = []
        for position, row in enumerate(self.event_forms):
            if row.is_blank():
                continue
            events.append(row.to_event())
            self._event_positions.append(position)
        return {
            "as_of": data["as_of"].isoformat(),
            "company": {
                "registered_region": data.get("registered_region") or None,
                "ownership": data.get("ownership") or None,
                "modalities": list(data.get("modalities") or []),
            },
            "events": events,
        }

    def add_scenario_errors(self, errors: dict[str, list[str]]) -> None:
        """Put each engine error on the field it names; anything else on the form itself."""
        for path, messages in errors.items():
            match = _EVENT_ERROR.match(path)
            target, field = self, None
            if match and int(match.group(1)) < len(self._event_positions):
                target = self.event_forms[self._event_positions[int(match.group(1))]]
                field = match.group(2) if match.group(2) in target.fields else None
            elif path.startswith("company."):
                name = path.split(".", 1)[1].split("[")[0]
                field = name if name in self.fields else None
            elif path in self.fields:
                field = path
            for message in messages:
                text = message if field else f"{path}: {message}"
                target.add_error(field, text)


class EventForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Event"), required=False, choices=[("", "—"), *EVENT_KIND_CHOICES]
    )
    date = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    product = forms.CharField(label=_("Product"), required=False, max_length=200)
    modality = forms.ChoiceField(
        label=_("Modality"), required=False, choices=[("", "—"), *Modality.choices]
    )
    commercialized_in = forms.ChoiceField(label=_("Commercialized in"), required=False)
    amount = forms.CharField(label=_("Amount"), required=False, max_length=30)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commercialized_in"].choices = [("", "—"), *regions]

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) for name in self.fields)

    def clean(self):
        data = super().clean()
        if any(data.get(name) for name in self.fields):
            for required in ("kind", "date"):
                if not data.get(required) and required not in self.errors:
                    self.add_error(required, _("Required for an event."))
        return data

    def to_event(self) -> dict:
        data = self.cleaned_data
        event: dict = {"kind": data["kind"], "date": data["date"].isoformat()}
        optional = {
            "product": data.get("product") or None,
            "modality": data.get("modality") or None,
            "commercialized_in": data.get("commercialized_in") or None,
            "amount": (data.get("amount") or "").replace(",", "").strip() or None,
            "currency": (data.get("currency") or "").strip().upper() or None,
        }
        event.update({key: value for key, value in optional.items() if value is not None})
        return event
