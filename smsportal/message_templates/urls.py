from django.urls import path

from . import views

app_name = "message_templates"
urlpatterns = [
    path("", views.template_list, name="list"),
    path("add/", views.template_create, name="create"),
    path("<int:pk>/", views.template_edit, name="edit"),
    path("<int:pk>/delete/", views.template_delete, name="delete"),
]
