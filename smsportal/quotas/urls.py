from django.urls import path

from . import views

app_name = "quotas"
urlpatterns = [
    path("", views.quota_list, name="list"),
    path("add/", views.quota_create, name="create"),
    path("export/", views.export, name="export"),
    path("<int:pk>/edit/", views.quota_edit, name="edit"),
    path("<int:pk>/delete/", views.quota_delete, name="delete"),
]
