from .models import Notification


def unread_notifications(request):
    """Unread count for the header badge; one query for a logged-in user, none otherwise."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications_count": lambda: Notification.objects.filter(user=user, read_at__isnull=True).count()}
