"""REST API v1 URLs of the projects app."""

urlpatterns: list = []
