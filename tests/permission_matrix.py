"""The declared access table: what every role may do on every URL pattern and API operation.

`tests/test_permission_matrix.py` walks every URL pattern (and every OpenAPI operation) with
every role and compares the outcome with this table. An endpoint missing from the table fails
the test, so a new page or API route is declared here with one line, e.g.

    "/api/v1/widgets/": {"GET": API_READ, "POST": API_WRITE},
    "/widgets/{slug}/": {"GET": PUBLIC},

Keys are paths as Django routes them with `<converter:name>` written `{name}` (the OpenAPI
spelling). Methods not listed for a path must be refused (401/403/404/405, or a login
redirect) for every role. Outcomes: ALLOW (the request reached the view: 2xx, 3xx other than a
login redirect, 304, or a validation-level 4xx such as 400/409/412/428), LOGIN (redirect to the
admin login), or a refusal status.

Admin URLs are declared per model below (ADMIN_MODELS): curated models get CURATED_ADMIN unless
listed; any other registered model must be listed or the test fails.
"""

from __future__ import annotations

ROLES = (
    "anonymous",
    "analyst",  # logged-in reader without staff status (session)
    "investor",  # valid API token
    "investor_expired",
    "investor_revoked",
    "curator",  # staff in the "Curators" group: permissions on the curated models only
    "admin",  # superuser
)

ALLOW = "allow"
LOGIN = "login"
DENIED = "denied"  # any refusal: 401, 403, 404, 405 or a login redirect
UNAUTHORIZED = 401
FORBIDDEN = 403
NOT_FOUND = 404
NOT_ALLOWED = 405

INVESTORS = ("investor", "investor_expired", "investor_revoked")


def roles(default, **overrides) -> dict:
    expected = dict.fromkeys(ROLES, default)
    unknown = set(overrides) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    expected.update(overrides)
    return expected


# Analyst pages are public reading; an API token means nothing to them.
PUBLIC = roles(ALLOW)
# API reads: a valid token, or a staff session (the browsable docs). A reader's plain session
# is not an API credential, so it is 401 like no credential at all.
API_READ = roles(UNAUTHORIZED, investor=ALLOW, curator=ALLOW, admin=ALLOW)
# API writes: staff with the model permission; a valid investor token is authenticated but
# not allowed (403); bad tokens stay 401.
API_WRITE = roles(UNAUTHORIZED, investor=FORBIDDEN, curator=ALLOW, admin=ALLOW)
# Staff-only admin pages: everyone else is sent to the login page (403 is not used there).
STAFF_ADMIN = roles(LOGIN, curator=ALLOW, admin=ALLOW)
SUPERUSER_ADMIN = roles(LOGIN, curator=FORBIDDEN, admin=ALLOW)
# The login page itself and the logout/landing helpers.
ANYONE = roles(ALLOW)


def api_resource(name: str, *, writable: bool = False) -> dict:
    """The two routes of an API resource: list (+ POST) and detail (+ PATCH, DELETE)."""
    list_methods = {"GET": API_READ}
    detail_methods = {"GET": API_READ}
    if writable:
        list_methods["POST"] = API_WRITE
        detail_methods.update(PATCH=API_WRITE, DELETE=API_WRITE)
    return {f"/api/v1/{name}/": list_methods, f"/api/v1/{name}/{{lookup}}/": detail_methods}


ENDPOINTS: dict[str, dict[str, dict]] = {
    # Core --------------------------------------------------------------------------------
    # The health check reads only, whatever the method; 503 (something down) is an answer too.
    "/healthz": dict.fromkeys(("GET", "POST", "PUT", "PATCH", "DELETE"), PUBLIC),
    # Django's set_language redirects for any method; only a POST changes the language.
    "/i18n/setlang/": dict.fromkeys(("GET", "POST", "PUT", "PATCH", "DELETE"), PUBLIC),
    # API infrastructure ----------------------------------------------------------------
    # The schema and docs describe the API and hold no data: public. Swagger is a DRF view, so
    # a bad token presented to it is still refused; ReDoc is a plain GET-only page.
    "/api/v1/schema/": {"GET": PUBLIC},
    "/api/v1/docs/": {"GET": roles(ALLOW, investor_expired=401, investor_revoked=401)},
    "/api/v1/docs/redoc/": {"GET": PUBLIC},
    "/api/v1/changes/": {"GET": API_READ},
    # API resources: list (+ create), detail (+ change + delete) -----------------------
    **api_resource("companies", writable=True),
    **api_resource("facilities", writable=True),
    **api_resource("regions"),
    **api_resource("sources"),
    **api_resource("authorities"),
    **api_resource("reported-figures"),
    **api_resource("metrics"),
    **api_resource("projects", writable=True),
    **api_resource("products"),
    **api_resource("milestones"),
    **api_resource("policies", writable=True),
    **api_resource("provisions"),
    **api_resource("subsidy-rules"),
    **api_resource("targets"),
    # Subsidy estimates compute, they write nothing: a POST any reader may make.
    "/api/v1/subsidy-estimates/": {"POST": API_READ},
    "/api/v1/companies/{lookup}/subsidy-estimate/": {"GET": API_READ},
    # Analyst pages ---------------------------------------------------------------------
    "/": {"GET": PUBLIC},
    "/search/": {"GET": PUBLIC},
    "/calculator/": {"GET": PUBLIC, "POST": PUBLIC},  # the subsidy calculator form
    "/companies/": {"GET": PUBLIC},
    "/companies/{slug}/": {"GET": PUBLIC},
    "/companies/{slug}/subsidies/": {"GET": PUBLIC},
    "/companies/{slug}/history/": {"GET": PUBLIC},
    "/facilities/": {"GET": PUBLIC},
    "/facilities/map/": {"GET": PUBLIC},
    "/facilities/{slug}/": {"GET": PUBLIC},
    "/regions/": {"GET": PUBLIC},
    "/regions/{slug}/": {"GET": PUBLIC},
    "/projects/": {"GET": PUBLIC},
    "/projects/{slug}/": {"GET": PUBLIC},
    "/products/": {"GET": PUBLIC},
    "/products/{slug}/": {"GET": PUBLIC},
    "/milestones/": {"GET": PUBLIC},
    "/milestones/{slug}/": {"GET": PUBLIC},
    "/policies/": {"GET": PUBLIC},
    "/policies/{slug}/": {"GET": PUBLIC},
    "/policies/{slug}/provisions/{path}/": {"GET": PUBLIC},
    "/subsidy-rules/": {"GET": PUBLIC},
    "/subsidy-rules/{code}/": {"GET": PUBLIC},
    # Admin site pages that are not per model ------------------------------------------
    "/admin/": {"GET": STAFF_ADMIN, "POST": STAFF_ADMIN},
    "/admin/login/": {"GET": ANYONE, "POST": ANYONE},
    # Logout is POST-only for staff (405 on GET); others are redirected before the check.
    "/admin/logout/": {"GET": roles(ALLOW, curator=NOT_ALLOWED, admin=NOT_ALLOWED), "POST": ANYONE},
    "/admin/password_change/": {"GET": STAFF_ADMIN, "POST": STAFF_ADMIN},
    "/admin/password_change/done/": {"GET": STAFF_ADMIN},
    # Without its query parameters (which model/field) the autocomplete view refuses staff too.
    "/admin/autocomplete/": {"GET": roles(LOGIN, curator=FORBIDDEN, admin=FORBIDDEN)},
    "/admin/jsi18n/": {"GET": STAFF_ADMIN},
    "/admin/r/{content_type_id}/{object_id}/": {"GET": STAFF_ADMIN, "POST": STAFF_ADMIN},
    "/admin/{app_label}/": {"GET": STAFF_ADMIN, "POST": STAFF_ADMIN},
    # The admin's catch-all: an unknown admin URL is 404 for staff, a login for the rest.
    "/admin/{url}": {"GET": roles(LOGIN, curator=NOT_FOUND, admin=NOT_FOUND)},
}

# Per-model admin URLs ------------------------------------------------------------------------
# URL kinds come from the admin route after /admin/<app>/<model>/ (see _admin_kind). Kinds a
# role may use are listed (a set), or given an outcome each (a dict); every other kind is
# refused (403 for staff, login for the rest).
STAFF_KINDS_ALL = {"changelist", "add", "change", "delete", "history", "object"}
IMPORT_EXPORT_KINDS = {"import", "process_import", "export"}

# Curated models: curators and admins do everything.
CURATED_ADMIN = {
    "curator": STAFF_KINDS_ALL | IMPORT_EXPORT_KINDS,
    "admin": STAFF_KINDS_ALL | IMPORT_EXPORT_KINDS,
}
# "kind:METHOD" allows only that method: a read-only change page shows (GET) but refuses POST.
READ_ONLY_KINDS = {"changelist", "change:GET", "history", "object"}
# Admin views that only accept POST answer 405 to a GET from anyone allowed to use them.
ADMIN_POST_ONLY_KINDS = {"process_import"}

ADMIN_MODELS: dict[str, dict[str, set[str] | dict[str, int]]] = {
    # Tokens: superusers list and revoke (no add, all fields read-only); curators nothing.
    # Token object URLs are 404 for curators, existing or not: no oracle for which ids exist.
    "portal.apitoken": {
        "curator": {"change": NOT_FOUND, "delete": NOT_FOUND, "history": NOT_FOUND},
        "admin": READ_ONLY_KINDS | {"change", "delete"},
    },
    # Audit log: read-only for both (curators read history).
    "portal.change": {"curator": READ_ONLY_KINDS, "admin": READ_ONLY_KINDS},
    # Derived metrics: computed, never edited; curators read them.
    "portal.figure": {"curator": READ_ONLY_KINDS, "admin": READ_ONLY_KINDS},
    # Accounts: superusers only.
    "auth.user": {"curator": set(), "admin": STAFF_KINDS_ALL | {"password_change"}},
    "auth.group": {"curator": set(), "admin": STAFF_KINDS_ALL},
}

# Fields that must never appear in a response to an investor (at any depth of the JSON).
INVESTOR_FORBIDDEN_FIELDS = {
    "key_hash",
    "actor",
    "actor_id",
    "actor_label",
    "password",
    "internal_notes",
    "transaction_id",
    "is_staff",
    "is_superuser",
    "email",
}
