from django.urls import path

from . import views

app_name = "forwarding"
urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("add/", views.endpoint_create, name="create"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path("<int:pk>/edit/", views.endpoint_edit, name="edit"),
    path("<int:pk>/delete/", views.endpoint_delete, name="delete"),
    path("<int:pk>/test/", views.endpoint_test, name="test"),
    path("<int:pk>/rotate/", views.endpoint_rotate, name="rotate"),
    path("<int:pk>/finish-rotation/", views.endpoint_finish_rotation, name="finish_rotation"),
]
