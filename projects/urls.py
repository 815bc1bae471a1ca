"""Analyst page URLs of the projects app."""

from django.urls import path

from projects import views

app_name = "projects"
urlpatterns: list = [
    path("projects/", views.project_list, name="project-list"),
    path("projects/<slug:slug>/", views.project_detail, name="project-detail"),
    path("products/", views.product_list, name="product-list"),
    path("products/<slug:slug>/", views.product_detail, name="product-detail"),
    path("milestones/", views.milestone_list, name="milestone-list"),
    path("milestones/<slug:slug>/", views.milestone_detail, name="milestone-detail"),
]
