"""Analyst page URLs of the projects app."""

app_name = "projects"
urlpatterns: list = []
