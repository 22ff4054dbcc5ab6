from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("mes-notifications/", views.notification_list, name="list"),
    path("mes-notifications/tout-marquer-comme-lu/", views.mark_all_read, name="mark-all-read"),
]
