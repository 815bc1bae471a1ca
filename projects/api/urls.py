"""REST API v1 URLs of the projects app."""

from portal.api.views import resource_urls
from projects.api.views import milestones, products, projects

urlpatterns = [*resource_urls(projects), *resource_urls(products), *resource_urls(milestones)]
