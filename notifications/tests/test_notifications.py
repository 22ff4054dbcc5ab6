"""In-app notifications (« Mes notifications »): each user reads and marks only their own."""

import pytest
from django.urls import reverse

from cpf_portal.testing import text
from notifications import services
from notifications.models import Notification

pytestmark = pytest.mark.django_db

MARK_ALL = reverse("notifications:mark-all-read")
LIST = reverse("notifications:list")


@pytest.fixture
def inboxes(titulaire, other_titulaire):
    """Two unread notifications and a read one for ``titulaire``, two unread for the other."""
    mine = [services.notify(user=titulaire, title=f"Dossier n°{n} : proposition reçue") for n in (1, 2)]
    read = services.notify(user=titulaire, title="Déjà lue")
    services.notifications_mark_read(user=titulaire, ids=[read.pk])
    theirs = [services.notify(user=other_titulaire, title=f"Dossier n°{n} : accepté") for n in (3, 4)]
    return {"mine": mine, "read": Notification.objects.get(pk=read.pk), "theirs": theirs}


def unread(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def test_mark_all_read_touches_only_the_users_own_notifications(titulaire, other_titulaire, inboxes):
    assert services.notifications_mark_read(user=titulaire) == 2
    assert unread(titulaire) == 0
    assert unread(other_titulaire) == 2
    # The notification already read keeps the date it was read.
    assert Notification.objects.get(pk=inboxes["read"].pk).read_at == inboxes["read"].read_at


def test_mark_read_by_id_ignores_someone_elses_ids(titulaire, other_titulaire, inboxes):
    theirs = [n.pk for n in inboxes["theirs"]]
    assert services.notifications_mark_read(user=titulaire, ids=theirs) == 0
    assert unread(other_titulaire) == 2
    assert services.notifications_mark_read(user=titulaire, ids=[inboxes["mine"][0].pk, *theirs]) == 1
    assert unread(titulaire) == 1 and unread(other_titulaire) == 2


def test_notify_with_a_dedup_key_notifies_once(titulaire):
    assert services.notify(user=titulaire, title="Rappel", dedup_key="rappel-1") is not None
    assert services.notify(user=titulaire, title="Rappel", dedup_key="rappel-1") is None
    assert Notification.objects.filter(user=titulaire).count() == 1


def test_the_mark_all_read_button_marks_the_users_notifications_only(client, titulaire, other_titulaire, inboxes):
    client.force_login(titulaire)
    response = client.post(MARK_ALL, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "2 notifications marquées comme lues." in text(response)
    assert unread(titulaire) == 0 and unread(other_titulaire) == 2


def test_the_mark_all_read_button_is_a_post(client, titulaire, inboxes):
    client.force_login(titulaire)
    assert client.get(MARK_ALL).status_code == 405
    assert unread(titulaire) == 2


def test_anonymous_visitors_are_sent_to_the_login_page(client, titulaire, inboxes):
    response = client.post(MARK_ALL)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    assert client.get(LIST).status_code == 302
    assert unread(titulaire) == 2


def test_the_list_shows_the_users_own_notifications(client, titulaire, inboxes):
    client.force_login(titulaire)
    page = text(client.get(LIST))
    assert "Dossier n°1 : proposition reçue" in page and "Déjà lue" in page
    assert "accepté" not in page


def test_the_list_pages_past_twenty_notifications(client, titulaire):
    """More than one page: the pagination links render (a missing variable of theirs was a 500)."""
    from django.urls import reverse

    from cpf_portal.testing import text
    from notifications.models import Notification

    Notification.objects.bulk_create([Notification(user=titulaire, title=f"Avis n° {n}") for n in range(25)])
    client.force_login(titulaire)
    first = client.get(reverse("notifications:list"))
    assert first.status_code == 200 and "?page=2" in text(first)
    assert "Avis n° 0" in text(client.get(reverse("notifications:list") + "?page=2"))
