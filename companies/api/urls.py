"""REST API v1 URLs of the companies app."""

from companies.api.views import companies, facilities
from portal.api.views import resource_urls

urlpatterns = [*resource_urls(companies), *resource_urls(facilities)]
