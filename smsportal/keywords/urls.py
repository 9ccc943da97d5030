from django.urls import path

from . import views

app_name = "keywords"
urlpatterns = [
    path("", views.keyword_list, name="list"),
    path("add/", views.rule_create, name="rule_create"),
    path("<int:pk>/", views.rule_edit, name="rule_edit"),
    path("<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("confirmations/<int:account_pk>/", views.confirmations_edit, name="confirmations"),
]
