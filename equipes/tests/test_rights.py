"""The rights matrix: every organisme page, action and export, for each team role (one role
per person), a person outside the team, and another organisme's member."""

import datetime
import re

import pytest
from django.urls import reverse

from accounts.tests.factories import OrganismeStaffFactory
from dossiers.workflow import Status
from equipes.models import Membership, TeamRole
from equipes.permissions import GRANTS, Right

R = Right

# (name, method, url builder on the cast, right needed, status when allowed)
# A POST sends an empty form: the allowed answer is the form refused (400) or a redirect,
# never a change the matrix did not mean.
REQUESTS = [
    ("accueil", "get", lambda c: reverse("dossiers:organisme-home"), R.EQUIPE_VOIR, 200),
    ("dossiers", "get", lambda c: reverse("dossiers:organisme-inbox"), R.DOSSIERS_VOIR, 200),
    ("export des dossiers", "get", lambda c: reverse("dossiers:organisme-export"), R.DOSSIERS_VOIR, 200),
    ("dossier", "get", lambda c: reverse("dossiers:organisme-detail", args=[c["dossier"].numero]), R.DOSSIERS_VOIR, 200),
    ("proposer", "post", lambda c: reverse("dossiers:organisme-action", args=[c["dossier"].numero, "propose"]), R.DOSSIERS_TRAITER, 400),
    ("refuser", "post", lambda c: reverse("dossiers:organisme-action", args=[c["dossier"].numero, "refuse"]), R.DOSSIERS_TRAITER, 400),
    ("justificatif", "post", lambda c: reverse("dossiers:organisme-proof-upload", args=[c["dossier"].numero]), R.DOSSIERS_TRAITER, 400),
    ("catalogue", "get", lambda c: reverse("catalogue:organisme-formations"), R.CATALOGUE_VOIR, 200),
    ("formation", "get", lambda c: reverse("catalogue:organisme-formation", args=[c["formation"].public_id]), R.CATALOGUE_VOIR, 200),
    ("modifier la formation", "post", lambda c: reverse("catalogue:organisme-formation", args=[c["formation"].public_id]), R.CATALOGUE_GERER, 400),
    ("créer une formation", "get", lambda c: reverse("catalogue:organisme-formation-create"), R.CATALOGUE_GERER, 200),
    ("publier", "post", lambda c: reverse("catalogue:organisme-formation-toggle", args=[c["formation"].public_id]), R.CATALOGUE_GERER, 302),
    ("session", "get", lambda c: reverse("catalogue:organisme-session", args=[c["session"].public_id]), R.CATALOGUE_VOIR, 200),
    ("modifier la session", "post", lambda c: reverse("catalogue:organisme-session", args=[c["session"].public_id]), R.CATALOGUE_GERER, 400),
    ("ajouter une action", "get", lambda c: reverse("catalogue:organisme-action-create", args=[c["formation"].public_id]), R.CATALOGUE_GERER, 200),
    ("action", "get", lambda c: reverse("catalogue:organisme-action", args=[c["session"].action.public_id]), R.CATALOGUE_VOIR, 200),
    ("modifier l'action", "post", lambda c: reverse("catalogue:organisme-action", args=[c["session"].action.public_id]), R.CATALOGUE_GERER, 400),
    (
        "ajouter une session",
        "get",
        lambda c: reverse("catalogue:organisme-session-create", args=[c["session"].action.public_id]),
        R.CATALOGUE_GERER,
        200,
    ),
    ("à facturer", "get", lambda c: reverse("billing:to-bill"), R.FACTURATION_VOIR, 200),
    ("facturer", "post", lambda c: reverse("billing:to-bill"), R.FACTURATION_GERER, 400),
    ("règlements", "get", lambda c: reverse("billing:invoices"), R.FACTURATION_VOIR, 200),
    ("export des factures", "get", lambda c: reverse("billing:invoices-export"), R.FACTURATION_VOIR, 200),
    ("facture", "get", lambda c: reverse("billing:invoice", args=["F-0000-00000"]), R.FACTURATION_VOIR, 404),
    ("avoir", "post", lambda c: reverse("billing:invoice-credit", args=["F-0000-00000"]), R.FACTURATION_GERER, 404),
    ("coordonnées bancaires", "get", lambda c: reverse("billing:bank"), R.FACTURATION_VOIR, 200),
    ("modifier le compte", "post", lambda c: reverse("billing:bank"), R.FACTURATION_GERER, 400),
    ("équipe", "get", lambda c: reverse("equipes:team"), R.EQUIPE_VOIR, 200),
    ("inviter", "post", lambda c: reverse("equipes:invite"), R.EQUIPE_GERER, 400),
    ("rôles d'un membre", "get", lambda c: reverse("equipes:member", args=[c["colleague"].pk]), R.EQUIPE_GERER, 200),
    ("retirer un membre", "post", lambda c: reverse("equipes:member-remove", args=[0]), R.EQUIPE_GERER, 404),
    ("annuler une invitation", "post", lambda c: reverse("equipes:invitation-revoke", args=[0]), R.EQUIPE_GERER, 404),
]


@pytest.fixture
def cast(organisme, make_dossier, session):
    dossier = make_dossier(Status.SENT)
    colleague = Membership.objects.get(organisme=organisme)  # the fixture's organisme_user
    return {"dossier": dossier, "formation": session.formation, "session": session, "colleague": colleague}


@pytest.mark.parametrize("role", list(TeamRole))
def test_each_role_reaches_exactly_what_its_rights_allow(client, organisme, cast, role):
    person = OrganismeStaffFactory(organisme=organisme, roles=[role])
    client.force_login(person)
    wrong = []
    for name, method, url, right, allowed_status in REQUESTS:
        response = getattr(client, method)(url(cast))
        expected = allowed_status if right in GRANTS[role] else 403
        if response.status_code != expected:
            wrong.append(f"{name}: {response.status_code} (attendu {expected})")
    assert wrong == []
    cast["dossier"].refresh_from_db()
    assert cast["dossier"].status == Status.SENT  # nothing the matrix sent changed it


def test_roles_add_up(client, organisme, cast):
    person = OrganismeStaffFactory(organisme=organisme, roles=[TeamRole.CATALOGUE, TeamRole.FINANCIER])
    client.force_login(person)
    assert client.get(reverse("catalogue:organisme-formation-create")).status_code == 200
    assert client.post(reverse("billing:bank")).status_code == 400
    assert client.post(reverse("dossiers:organisme-action", args=[cast["dossier"].numero, "refuse"])).status_code == 403


def test_another_organismes_member_gets_404_on_every_object(client, cast, other_organisme_user):
    client.force_login(other_organisme_user)
    for name, method, url, _right, _status in REQUESTS:
        if name in {
            "dossier",
            "proposer",
            "refuser",
            "justificatif",
            "formation",
            "modifier la formation",
            "publier",
            "session",
            "modifier la session",
            "ajouter une session",
            "rôles d'un membre",
        }:
            assert getattr(client, method)(url(cast)).status_code == 404, name


def test_a_person_removed_from_the_team_is_refused_everywhere(client, organisme, cast):
    person = OrganismeStaffFactory(organisme=organisme, roles=[TeamRole.GESTIONNAIRE])
    client.force_login(person)
    assert client.get(reverse("dossiers:organisme-home")).status_code == 200
    Membership.objects.filter(user=person).delete()
    for name, method, url, _right, _status in REQUESTS:
        assert getattr(client, method)(url(cast)).status_code == 403, name


def test_titulaires_and_anonymous_visitors_never_reach_the_espace_organisme(client, titulaire, cast):
    assert client.get(reverse("dossiers:organisme-inbox")).status_code == 302  # to the login page
    client.force_login(titulaire)
    assert client.get(reverse("dossiers:organisme-inbox")).status_code == 403
    assert client.get(reverse("equipes:team")).status_code == 403


def test_a_lecteur_sees_the_dossier_without_any_action(client, organisme, cast):
    lecteur = OrganismeStaffFactory(organisme=organisme, roles=[TeamRole.LECTEUR])
    client.force_login(lecteur)
    page = client.get(reverse("dossiers:organisme-detail", args=[cast["dossier"].numero])).content.decode()
    assert cast["dossier"].numero in page
    assert ">Valider<" not in page and ">Refuser<" not in page
    formation = client.get(reverse("catalogue:organisme-formation", args=[cast["formation"].public_id])).content.decode()
    assert "Enregistrer la formation" not in formation and "disabled" in formation
    assert "Créer une formation" not in client.get(reverse("catalogue:organisme-formations")).content.decode()


def test_the_navigation_shows_what_the_role_reaches(client, organisme, cast):
    person = OrganismeStaffFactory(organisme=organisme, roles=[TeamRole.CATALOGUE])
    client.force_login(person)
    page = client.get(reverse("dossiers:organisme-home")).content.decode()
    assert "Mon catalogue" in page and "Mon équipe" in page
    assert reverse("dossiers:organisme-inbox") not in page and reverse("billing:to-bill") not in page


def test_notices_about_dossiers_reach_the_members_who_see_them(organisme, organisme_user, titulaire_with_rights, session):
    from dossiers import services
    from dossiers.tests import factories as f
    from notifications.models import Notification

    catalogue_only = OrganismeStaffFactory(organisme=organisme, roles=[TeamRole.CATALOGUE])
    lecteur = OrganismeStaffFactory(organisme=organisme, roles=[TeamRole.LECTEUR])
    dossier = f.sent(titulaire_with_rights, session)
    told = set(Notification.objects.filter(title__contains=dossier.numero).values_list("user_id", flat=True))
    assert {organisme_user.pk, lecteur.pk} <= told and catalogue_only.pk not in told
    # The set-based path (a lapsed request) tells the same people.
    services.expire_overdue(now=dossier.deadline_at + datetime.timedelta(seconds=1))
    lapsed = set(
        Notification.objects.filter(title__contains=dossier.numero).exclude(title__startswith="[Non traité]").values_list("user_id", flat=True)
    )
    assert {organisme_user.pk, lecteur.pk} <= lapsed and catalogue_only.pk not in lapsed


@pytest.mark.parametrize("role", list(TeamRole))
def test_no_page_offers_a_role_a_link_its_rights_refuse(client, organisme, make_dossier, role):
    """The home and a billable dossier (« À facturer », with its way to « Facturation »): every
    organisme link shown to a role opens for it (no 403)."""
    dossier = make_dossier(Status.DEBITED)
    assert dossier.billable_cents
    person = OrganismeStaffFactory(organisme=organisme, roles=[role])
    client.force_login(person)
    pages = [reverse("dossiers:organisme-home")]
    if Right.DOSSIERS_VOIR in GRANTS[role]:
        pages.append(reverse("dossiers:organisme-detail", args=[dossier.numero]))
    for page in pages:
        html = client.get(page).content.decode()
        links = set(re.findall(r'href="(/[^"#?]*)', html)) - {reverse("accounts:logout")}
        for href in sorted(link for link in links if not link.startswith("/static/")):
            assert client.get(href).status_code != 403, (role, page, href)
    if Right.FACTURATION_VOIR not in GRANTS[role] and Right.DOSSIERS_VOIR in GRANTS[role]:
        assert reverse("billing:to-bill") not in client.get(pages[-1]).content.decode()


@pytest.mark.parametrize(
    ("roles", "sentence"),
    [
        (
            [TeamRole.GESTIONNAIRE],
            "vous gérez le catalogue de votre organisme, répondez aux dossiers de formation et facturez les formations réalisées.",
        ),
        ([TeamRole.LECTEUR], "vous consultez le catalogue de votre organisme, suivez les dossiers de formation et consultez la facturation."),
        ([TeamRole.CATALOGUE], "vous gérez le catalogue de votre organisme."),
        ([TeamRole.ADMINISTRATIF], "vous consultez le catalogue de votre organisme et répondez aux dossiers de formation."),
        (
            [TeamRole.FINANCIER],
            "vous consultez le catalogue de votre organisme, suivez les dossiers de formation et facturez les formations réalisées.",
        ),
        ([TeamRole.RESPONSABLE], "vous gérez votre équipe et ses accès."),
    ],
)
def test_the_home_page_says_what_the_role_does(client, organisme, roles, sentence):
    from cpf_portal.testing import text

    client.force_login(OrganismeStaffFactory(organisme=organisme, roles=roles))
    assert f"Depuis cet espace, {sentence}" in text(client.get(reverse("dossiers:organisme-home")))
