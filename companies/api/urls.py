"""REST API v1 URLs of the companies app."""

urlpatterns: list = []
