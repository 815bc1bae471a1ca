"""REST API v1 URLs of the policies app."""

urlpatterns: list = []
