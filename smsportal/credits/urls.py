from django.urls import path

from . import views

app_name = "credits"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("balances/", views.balances_panel, name="balances"),
    path("refresh/", views.refresh, name="refresh"),
    path("transfers/", views.transfer_list, name="transfer_list"),
    path("transfers/new/", views.transfer_create, name="transfer_create"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/execute/", views.transfer_execute, name="transfer_execute"),
]
