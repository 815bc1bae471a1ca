"""Analyst page URLs of the policies app."""

app_name = "policies"
urlpatterns: list = []
