from django.urls import path

from .views import messages

app_name = "messaging"
urlpatterns = [
    path("", messages.message_list, name="message_list"),
    path("<int:pk>/", messages.message_detail, name="message_detail"),
    path("<int:pk>/cancel/", messages.message_cancel, name="message_cancel"),
    path("<int:pk>/retry/", messages.message_retry, name="message_retry"),
    path("<int:pk>/edit/", messages.message_edit, name="message_edit"),
]
