from django.urls import path

from . import routes_views, views

app_name = "routing"
urlpatterns = [
    path("", routes_views.routing, name="index"),
    path("dry-run/", routes_views.dry_run, name="dry_run"),
    path("routes/new/", routes_views.route_create, name="route_create"),
    path("routes/<int:pk>/", routes_views.route_edit, name="route_edit"),
    path("routes/<int:pk>/delete/", routes_views.route_delete, name="route_delete"),
    path("routes/<int:pk>/move/<str:direction>/", routes_views.route_move, name="route_move"),
    path("accounts/<int:pk>/", routes_views.account_settings, name="account_settings"),
    path("prices/<int:pk>/", views.prices, name="prices"),
    path("prices/<int:pk>/import/", views.import_prices, name="import_prices"),
    path("prices/<int:pk>/<int:price_pk>/delete/", views.delete_price, name="delete_price"),
]
