from django.urls import path

from .views import compose, conversations, inbox, mail_merge, messages, remote_lists

app_name = "messaging"
urlpatterns = [
    path("", messages.message_list, name="message_list"),
    path("compose/", compose.compose, name="compose"),
    path("compose/file/", mail_merge.mail_merge_upload, name="mail_merge_upload"),
    path("compose/file/<slug:key>/", mail_merge.mail_merge, name="mail_merge"),
    path("<int:pk>/", messages.message_detail, name="message_detail"),
    path("<int:pk>/cancel/", messages.message_cancel, name="message_cancel"),
    path("<int:pk>/retry/", messages.message_retry, name="message_retry"),
    path("<int:pk>/edit/", messages.message_edit, name="message_edit"),
    path(
        "remote-lists/<int:account_pk>/send/",
        remote_lists.remote_list_send,
        name="remote_list_send",
    ),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/read/", inbox.mark_read, name="inbox_mark_read"),
    path("inbox/<int:pk>/", conversations.conversation, name="conversation"),
    path("inbox/<int:pk>/reply/", conversations.conversation_reply, name="conversation_reply"),
    path(
        "inbox/number/<str:phone>/",
        conversations.contact_conversations,
        name="contact_conversations",
    ),
]
