from django.urls import path

from . import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="contact_list"),
    path("add/", views.contact_create, name="contact_create"),
    path("bulk/", views.contact_bulk, name="contact_bulk"),
    path("export.csv", views.contact_export, name="contact_export"),
    path("<int:pk>/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("fields/", views.field_list, name="field_list"),
    path("fields/<int:pk>/", views.field_edit, name="field_edit"),
    path("fields/<int:pk>/delete/", views.field_delete, name="field_delete"),
    path("lists/", views.list_list, name="list_list"),
    path("lists/add/", views.list_create, name="list_create"),
    path("lists/<int:pk>/", views.list_detail, name="list_detail"),
    path("lists/<int:pk>/edit/", views.list_edit, name="list_edit"),
    path("lists/<int:pk>/delete/", views.list_delete, name="list_delete"),
    path("lists/<int:pk>/push/", views.list_push, name="list_push"),
    path("remote/<int:account_pk>/", views.remote_lists, name="remote_lists"),
    path("remote/<int:account_pk>/delete/", views.remote_list_delete, name="remote_list_delete"),
    path("opt-outs/", views.optout_list, name="optout_list"),
    path("opt-outs/add/", views.optout_create, name="optout_create"),
    path("opt-outs/<int:pk>/delete/", views.optout_delete, name="optout_delete"),
    path("imports/", views.import_create, name="import_create"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/start/", views.import_start, name="import_start"),
    path("imports/<int:pk>/rejected.csv", views.import_rejections, name="import_rejections"),
]
