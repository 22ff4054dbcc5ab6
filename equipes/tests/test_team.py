"""Invitations (expiry, reuse, wrong account), roles, departures and the team's log."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.tests.factories import OrganismeStaffFactory
from catalogue.tests.factories import OrganismeFactory
from equipes import services
from equipes.models import Invitation, Membership, TeamEvent, TeamRole
from notifications.models import Email
from notifications.services import unseal

TEAM = reverse("equipes:team")


def invite(client, email="nouvelle@cp-formation.example", roles=(TeamRole.LECTEUR,)) -> str:
    """Invite through the page; return the link path read from the e-mail."""
    response = client.post(reverse("equipes:invite"), {"email": email, "roles": list(roles)})
    assert response.status_code == 302, response.content.decode()[:500]
    mail = Email.objects.filter(to=email).latest("created_at")
    _, body = unseal(mail.sealed)  # the e-mail as it leaves (the row shows the link masked)
    return re.search(r"https?://[^/\s]+(/espace-organisme/invitation/[^\s]+/)", body).group(1)


@pytest.fixture
def responsable(client, organisme_user):
    client.force_login(organisme_user)
    return organisme_user


def test_an_invitee_creates_an_account_accepts_and_lands_in_the_organisme(new_client, client, responsable, organisme):
    link = invite(client)
    mail = Email.objects.get(to="nouvelle@cp-formation.example")
    assert "CP-FORMATION vous invite" in mail.subject and "Lecteur" in mail.body_text
    assert Invitation.objects.get().token_digest not in link  # only the digest is stored

    visitor = new_client()
    page = visitor.get(link)
    assert page.status_code == 200 and "Créer votre compte" in page.content.decode()
    refused = visitor.post(link, {"first_name": "Lou", "last_name": "Petit", "password": "court", "password_confirm": "court"})
    assert refused.status_code == 400 and not User.objects.filter(email="nouvelle@cp-formation.example").exists()
    response = visitor.post(link, {"first_name": "Lou", "last_name": "Petit", "password": "Apprendre2026!", "password_confirm": "Apprendre2026!"})
    assert response.status_code == 302 and response.url == reverse("dossiers:organisme-home")
    lou = User.objects.get(email="nouvelle@cp-formation.example")
    assert lou.role == Role.ORGANISME and lou.organisme == organisme and lou.check_password("Apprendre2026!")
    assert Membership.objects.get(user=lou).roles == [TeamRole.LECTEUR]
    # Logged in, but the second factor comes first.
    assert visitor.get(response.url).url.startswith(reverse("accounts:two-factor-setup"))

    # The link served once.
    again = new_client().get(link)
    assert again.status_code == 410 and "déjà été utilisée" in again.content.decode()
    # The team sees who did what.
    kinds = list(TeamEvent.objects.filter(organisme=organisme).values_list("kind", flat=True))
    assert kinds == [TeamEvent.Kind.JOINED, TeamEvent.Kind.INVITED]
    team = client.get(TEAM).content.decode()
    assert "Lou Petit" in team and "Invitation acceptée ; rôles : Lecteur" in team


def test_an_expired_revoked_or_unknown_link_is_refused(new_client, client, responsable, organisme):
    link = invite(client)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7, minutes=1)):
        expired = new_client().get(link)
        assert expired.status_code == 410 and "a expiré" in expired.content.decode()
        assert (
            new_client()
            .post(link, {"first_name": "A", "last_name": "B", "password": "Apprendre2026!", "password_confirm": "Apprendre2026!"})
            .status_code
            == 410
        )
    link = invite(client, email="autre@cp-formation.example")
    invitation = Invitation.objects.get(email="autre@cp-formation.example", revoked_at__isnull=True)
    assert client.post(reverse("equipes:invitation-revoke", args=[invitation.pk])).status_code == 302
    revoked = new_client().get(link)
    assert revoked.status_code == 410 and "annulée" in revoked.content.decode()
    assert new_client().get(reverse("equipes:invitation", args=["pas-un-jeton"])).status_code == 404
    assert not User.objects.filter(email__in=["nouvelle@cp-formation.example", "autre@cp-formation.example"]).exists()


def test_a_second_invitation_replaces_the_pending_one(new_client, client, responsable):
    first = invite(client)
    second = invite(client, roles=[TeamRole.FINANCIER])
    assert new_client().get(first).status_code == 410
    assert "Gestionnaire financier" in new_client().get(second).content.decode()


def test_the_wrong_account_cannot_accept(new_client, client, responsable, organisme, other_organisme_user, titulaire):
    link = invite(client)
    intruder = new_client()
    intruder.force_login(other_organisme_user)
    page = intruder.get(link)
    assert page.status_code == 403 and "autre adresse électronique" in page.content.decode()
    assert intruder.post(link).status_code == 403
    assert not Membership.objects.filter(user=other_organisme_user, organisme=organisme).exists()
    # A titulaire account with the invited address is not staff.
    titulaire_link = invite(client, email=titulaire.email)
    holder = new_client()
    holder.force_login(titulaire)
    assert "pas un compte d&#x27;organisme" in holder.get(titulaire_link).content.decode()
    assert holder.post(titulaire_link).status_code == 403
    assert not Membership.objects.filter(user=titulaire).exists()


def test_an_existing_staff_account_joins_a_second_organisme_and_switches(
    new_client, client, responsable, organisme, other_organisme_user, other_organisme
):
    link = invite(client, email=other_organisme_user.email, roles=[TeamRole.ADMINISTRATIF])
    visitor = new_client()
    page = visitor.get(link).content.decode()
    assert "Se connecter pour accepter" in page  # the account exists: log in, come back
    visitor.force_login(other_organisme_user)
    assert visitor.post(link).status_code == 302
    other_organisme_user.refresh_from_db()
    assert other_organisme_user.organisme == organisme  # working in the organisme just joined
    assert visitor.get(reverse("dossiers:organisme-inbox")).status_code == 200

    switch = visitor.get(reverse("equipes:switch")).content.decode()
    assert "CP-FORMATION" in switch and other_organisme.raison_sociale in switch
    assert visitor.post(reverse("equipes:switch"), {"organisme": other_organisme.pk}).status_code == 302
    other_organisme_user.refresh_from_db()
    assert other_organisme_user.organisme == other_organisme
    # Not a member: no switching there.
    stranger = OrganismeFactory()
    assert visitor.post(reverse("equipes:switch"), {"organisme": stranger.pk}).status_code == 400
    assert visitor.post(reverse("equipes:switch"), {"organisme": "x"}).status_code == 400


def test_roles_change_and_the_last_responsable_stays(client, responsable, organisme):
    me = Membership.objects.get(user=responsable)
    colleague = OrganismeStaffFactory(organisme=organisme, roles=[TeamRole.LECTEUR])
    membership = Membership.objects.get(user=colleague)
    response = client.post(reverse("equipes:member", args=[membership.pk]), {"roles": [TeamRole.ADMINISTRATIF, TeamRole.LECTEUR]})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.roles == [TeamRole.ADMINISTRATIF, TeamRole.LECTEUR]
    assert client.post(reverse("equipes:member", args=[membership.pk]), {}).status_code == 400  # no role

    # The only Responsable can neither drop the role nor leave…
    response = client.post(reverse("equipes:member", args=[me.pk]), {"roles": [TeamRole.GESTIONNAIRE]})
    assert response.status_code == 409 and "au moins un responsable" in response.content.decode()
    assert client.post(reverse("equipes:leave")).status_code == 409
    me.refresh_from_db()
    assert TeamRole.RESPONSABLE in me.roles
    # … until another one is named.
    client.post(reverse("equipes:member", args=[membership.pk]), {"roles": [TeamRole.RESPONSABLE]})
    assert client.post(reverse("equipes:leave")).status_code == 302
    assert not Membership.objects.filter(pk=me.pk).exists()
    assert client.get(reverse("dossiers:organisme-home")).status_code == 403
    log = list(TeamEvent.objects.filter(organisme=organisme).values_list("kind", "detail"))
    assert log[0][0] == TeamEvent.Kind.LEFT
    assert (TeamEvent.Kind.ROLES_CHANGED, "Lecteur → Gestionnaire administratif, Lecteur") in log


def test_a_responsable_removes_a_member_whose_next_page_is_refused(new_client, client, responsable, organisme):
    colleague = OrganismeStaffFactory(organisme=organisme, roles=[TeamRole.GESTIONNAIRE])
    their = new_client()
    their.force_login(colleague)
    assert their.get(reverse("dossiers:organisme-inbox")).status_code == 200
    membership = Membership.objects.get(user=colleague)
    assert client.post(reverse("equipes:member-remove", args=[membership.pk])).status_code == 302
    assert their.get(reverse("dossiers:organisme-inbox")).status_code == 403
    assert TeamEvent.objects.filter(kind=TeamEvent.Kind.REMOVED, actor=responsable).exists()


def test_an_invitation_to_a_member_or_a_bad_address_is_refused_next_to_the_field(client, responsable, organisme):
    response = client.post(reverse("equipes:invite"), {"email": "pas-une-adresse", "roles": [TeamRole.LECTEUR]})
    assert response.status_code == 400 and "adresse électronique valide" in response.content.decode()
    response = client.post(reverse("equipes:invite"), {"email": responsable.email.upper(), "roles": [TeamRole.LECTEUR]})
    assert response.status_code == 400 and "fait déjà partie" in response.content.decode()
    assert not Invitation.objects.exists()


def test_services_log_every_change_in_one_transaction(organisme, organisme_user):
    invitation, token = services.invite(organisme=organisme, email="x@cp-formation.example", roles=[TeamRole.CATALOGUE], by=organisme_user)
    with pytest.raises(services.UserFacingError):
        services.invitation_accept(token=token, user=organisme_user)  # another address
    assert TeamEvent.objects.filter(kind=TeamEvent.Kind.JOINED).count() == 0
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(services.InvitationInvalid):
        services.invitation_for(token)
