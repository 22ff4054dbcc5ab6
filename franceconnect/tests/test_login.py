"""« S'identifier avec FranceConnect » against a real OpenID Connect provider (see provider.py):
the Django test client is the site's browser, requests plays the person at the provider."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from auditlog.models import LogEntry

from accounts.models import User
from accounts.tests.factories import TitulaireFactory, nir_for
from franceconnect.models import FranceConnectIdentity
from franceconnect.sessions import ID_TOKEN_KEY
from franceconnect.tests.provider import CLAIMS

from .provider import free_port, local_path

pytestmark = pytest.mark.django_db

BIRTHDATE = datetime.date(1990, 5, 17)
LINK_URL = "/franceconnect/associer-mon-compte/"


def start(client) -> str:
    """Click « S'identifier avec FranceConnect »: the provider's authorization URL."""
    response = client.post("/franceconnect/connexion/")
    assert response.status_code == 302
    return response["Location"]


def come_back(client, provider, sub: str | None, **claims):
    """The whole trip: to the provider, authorized as ``sub`` with ``claims``, and back to the callback."""
    if sub:
        provider.set_user(sub, **{**CLAIMS, **claims})
    callback = provider.authorize(start(client), sub)
    assert callback.startswith("http://testserver/franceconnect/retour/?")
    return client.get(local_path(callback))


def failure_shown(client, response, words: str):
    """The callback sent back to the login page, whose message says why."""
    assert response.status_code == 302
    assert response["Location"] == "/connexion/"
    page = client.get("/connexion/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "La connexion avec FranceConnect a échoué" in text
    assert words in text
    assert "Réessayez ou connectez-vous avec votre mot de passe." in text
    assert "_auth_user_id" not in client.session


def test_off_without_configuration(client, settings):
    # The project's URLs as they are without FranceConnect, and its views' own guard.
    settings.FRANCECONNECT_ISSUER = ""
    assert "fr-connect" not in client.get("/connexion/").content.decode()
    assert "fr-connect" not in client.get("/inscription/").content.decode()
    assert client.post("/franceconnect/connexion/").status_code == 404
    assert client.get("/franceconnect/connexion/").status_code == 404
    assert client.get("/franceconnect/retour/?code=x&state=y").status_code == 404
    assert client.get(LINK_URL).status_code == 404
    settings.ROOT_URLCONF = "franceconnect.tests.urls"
    assert client.post("/franceconnect/connexion/").status_code == 404
    assert client.get("/franceconnect/retour/?code=x&state=y").status_code == 404


def test_login_and_signup_pages_show_the_dsfr_button(client, franceconnect):
    for url in ("/connexion/", "/inscription/"):
        text = client.get(url).content.decode()
        assert '<button class="fr-connect" type="submit">' in text
        assert "S’identifier avec" in text and '<span class="fr-connect__brand">FranceConnect</span>' in text
        assert 'href="https://franceconnect.gouv.fr/"' in text
        assert 'title="Qu’est-ce que FranceConnect ? - nouvelle fenêtre"' in text
        assert 'action="/franceconnect/connexion/"' in text


def test_authorization_request_has_pkce_state_nonce_and_acr(client, franceconnect):
    url = start(client)
    assert url.startswith(franceconnect.metadata()["authorization_endpoint"] + "?")
    query = parse_qs(urlsplit(url).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["cpf-portal-test"]
    assert query["redirect_uri"] == ["http://testserver/franceconnect/retour/"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0]
    assert query["acr_values"] == ["eidas1"]
    assert query["scope"][0].split()[:6] == ["openid", "given_name", "family_name", "birthdate", "birthplace", "email"]


def test_known_identity_logs_in(client, franceconnect):
    user = TitulaireFactory(email="autre@exemple.fr")
    link = FranceConnectIdentity.objects.create(user=user, sub="sub-connu", acr="eidas1")
    response = come_back(client, franceconnect, "sub-connu", acr="eidas2")
    assert response.status_code == 302
    assert response["Location"] == "/mon-compte/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[ID_TOKEN_KEY].count(".") == 2
    link.refresh_from_db()
    assert link.acr == "eidas2"
    assert link.last_login_at > link.verified_at
    assert client.get("/mon-compte/").status_code == 200


def test_login_goes_back_to_next(client, franceconnect):
    user = TitulaireFactory()
    FranceConnectIdentity.objects.create(user=user, sub="sub-next", acr="eidas1")
    franceconnect.set_user("sub-next", **CLAIMS)
    response = client.post("/franceconnect/connexion/", {"next": "/mon-compte/mes-informations/"})
    response = client.get(local_path(franceconnect.authorize(response["Location"], "sub-next")))
    assert response["Location"] == "/mon-compte/mes-informations/"


def test_first_login_recognises_the_account_by_email_and_birth_date(client, franceconnect):
    user = TitulaireFactory(email="angela.dubois@franceconnect.example", birth_date=BIRTHDATE)
    response = come_back(client, franceconnect, "sub-email")
    assert response["Location"] == "/mon-compte/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert FranceConnectIdentity.objects.get(sub="sub-email").user == user


def test_same_email_with_another_birth_date_is_not_linked(client, franceconnect):
    TitulaireFactory(email="angela.dubois@franceconnect.example", birth_date=datetime.date(1990, 5, 18))
    response = come_back(client, franceconnect, "sub-autre-date")
    assert response["Location"] == LINK_URL
    assert not FranceConnectIdentity.objects.exists()
    assert "_auth_user_id" not in client.session


def test_first_login_links_by_nir_and_birth_date(client, franceconnect):
    user = TitulaireFactory(email="ancienne@exemple.fr", first_name="Angèle", birth_date=BIRTHDATE)
    response = come_back(client, franceconnect, "sub-nir")
    assert response["Location"] == LINK_URL
    page = client.get(LINK_URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert "<h1>Associer mon compte</h1>" in text and "Angela Claire" in text and "17 mai 1990" in text
    assert 'for="id_nir"' in text

    response = client.post(LINK_URL, {"nir": user.nir, "cgu": "on"})
    assert response.status_code == 302
    assert response["Location"] == "/mon-compte/"
    assert client.session["_auth_user_id"] == str(user.pk)
    identity = FranceConnectIdentity.objects.get(sub="sub-nir")
    assert identity.user == user and identity.acr == "eidas1"
    assert LogEntry.objects.get_for_object(identity).filter(action=LogEntry.Action.CREATE).exists()  # audit trail
    assert client.session[ID_TOKEN_KEY]
    # Next time, straight in.
    client.post("/deconnexion/")
    assert come_back(client, franceconnect, "sub-nir")["Location"] == "/mon-compte/"


def test_first_login_with_another_birth_date_is_refused_next_to_the_field(client, franceconnect):
    # Same year and month as the NIR, another day: only the account's birth date tells.
    user = TitulaireFactory(email="ancienne@exemple.fr", birth_date=datetime.date(1990, 5, 3))
    come_back(client, franceconnect, "sub-mauvaise-date")
    response = client.post(LINK_URL, {"nir": user.nir, "cgu": "on"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Ce numéro de sécurité sociale ne correspond pas à l&#x27;identité transmise par FranceConnect." in text
    assert 'id="id_nir-desc-error"' in text
    assert not FranceConnectIdentity.objects.exists()
    assert "_auth_user_id" not in client.session


def test_nir_must_agree_with_the_franceconnect_birth_date(client, franceconnect):
    come_back(client, franceconnect, "sub-nir-incoherent")
    response = client.post(LINK_URL, {"nir": nir_for(datetime.date(1991, 5, 17)), "cgu": "on"})
    assert response.status_code == 400
    assert "L&#x27;année de naissance ne correspond pas" in response.content.decode()
    assert not User.objects.filter(nir=nir_for(datetime.date(1991, 5, 17))).exists()


def test_first_login_without_account_creates_one(client, franceconnect):
    come_back(client, franceconnect, "sub-nouveau")
    nir = nir_for(BIRTHDATE, sex="2", order=42)
    response = client.post(LINK_URL, {"nir": nir, "cgu": "on"})
    assert response.status_code == 302
    assert response["Location"] == "/mon-compte/"
    user = User.objects.get(nir=nir)
    assert (user.first_name, user.last_name, user.birth_date) == ("Angela Claire", "Dubois", BIRTHDATE)
    assert user.email == "angela.dubois@franceconnect.example"
    assert user.is_titulaire and user.is_activated and user.cgu_accepted_at
    assert not user.has_usable_password()
    assert user.franceconnect_identity.sub == "sub-nouveau"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_cgu_must_be_accepted(client, franceconnect):
    come_back(client, franceconnect, "sub-cgu")
    response = client.post(LINK_URL, {"nir": nir_for(BIRTHDATE, order=43)})
    assert response.status_code == 400
    assert "Vous devez accepter les conditions générales d&#x27;utilisation" in response.content.decode()
    assert not User.objects.exists()


def test_link_page_needs_a_franceconnect_identity(client, franceconnect):
    response = client.get(LINK_URL)
    assert response["Location"] == "/connexion/"


def test_wrong_state_is_refused(client, franceconnect):
    franceconnect.set_user("sub-state", **CLAIMS)
    callback = franceconnect.authorize(start(client), "sub-state")
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    response = client.get(f"{parts.path}?code={query['code'][0]}&state=etat-falsifie")
    failure_shown(client, response, "la demande de connexion a expiré ou ne vient pas de ce site.")


def test_wrong_nonce_is_refused(client, franceconnect):
    franceconnect.set_user("sub-nonce", **CLAIMS)
    url = start(client)
    session = client.session
    key = next(key for key in session.keys() if key.startswith("_state_franceconnect_"))  # noqa: SIM118 — a session is not iterable
    entry = session[key]
    entry["data"]["nonce"] = "nonce-falsifie"
    session[key] = entry
    session.save()
    response = client.get(local_path(franceconnect.authorize(url, "sub-nonce")))
    failure_shown(client, response, "l&#x27;identité transmise par FranceConnect n&#x27;a pas pu être vérifiée.")


def test_forged_id_token_signature_is_refused(client, franceconnect):
    user = TitulaireFactory()
    FranceConnectIdentity.objects.create(user=user, sub="sub-forge", acr="eidas1")
    franceconnect.tamper_id_token = True
    response = come_back(client, franceconnect, "sub-forge")
    failure_shown(client, response, "l&#x27;identité transmise par FranceConnect n&#x27;a pas pu être vérifiée.")


def test_lower_eidas_level_than_asked_is_refused(client, franceconnect, settings):
    settings.FRANCECONNECT_ACR_VALUES = "eidas2"
    assert parse_qs(urlsplit(start(client)).query)["acr_values"] == ["eidas2"]
    response = come_back(client, franceconnect, "sub-eidas", acr="eidas1")
    failure_shown(client, response, "le niveau de garantie de l&#x27;identité transmise est insuffisant.")


def test_access_denied_at_the_provider(client, franceconnect):
    response = come_back(client, franceconnect, None)
    failure_shown(client, response, "vous avez annulé la connexion sur FranceConnect.")


def test_provider_down(client, franceconnect, settings):
    settings.FRANCECONNECT_ISSUER = f"http://127.0.0.1:{free_port()}"
    response = client.post("/franceconnect/connexion/")
    failure_shown(client, response, "le service FranceConnect ne répond pas pour le moment.")


def test_provider_down_on_the_way_back(client, franceconnect, settings):
    franceconnect.set_user("sub-panne", **CLAIMS)
    callback = franceconnect.authorize(start(client), "sub-panne")
    settings.FRANCECONNECT_ISSUER = f"http://127.0.0.1:{free_port()}"
    response = client.get(local_path(callback))
    failure_shown(client, response, "le service FranceConnect ne répond pas pour le moment.")


def test_suspended_account_is_refused(client, franceconnect):
    user = TitulaireFactory(is_active=False)
    FranceConnectIdentity.objects.create(user=user, sub="sub-suspendu", acr="eidas1")
    response = come_back(client, franceconnect, "sub-suspendu")
    failure_shown(client, response, "le compte associé à cette identité ne peut pas être utilisé.")


def test_logout_ends_the_franceconnect_session(client, franceconnect):
    user = TitulaireFactory()
    FranceConnectIdentity.objects.create(user=user, sub="sub-logout", acr="eidas1")
    come_back(client, franceconnect, "sub-logout")
    id_token = client.session[ID_TOKEN_KEY]
    response = client.post("/deconnexion/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(franceconnect.metadata()["end_session_endpoint"] + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://testserver/"]
    assert query["state"][0]
    assert "_auth_user_id" not in client.session
    assert ID_TOKEN_KEY not in client.session


def test_password_logout_stays_local(client, franceconnect):
    client.force_login(TitulaireFactory())
    response = client.post("/deconnexion/")
    assert response["Location"] == "/"


def test_a_franceconnect_plus_login_confirms_a_purchase_and_franceconnect_does_not(client, franceconnect, organisme, organisme_user):
    """FranceConnect+ (eIDAS substantiel) stands for the strong confirmation of a purchase
    for a few minutes; plain FranceConnect (eIDAS faible) does not."""
    from dossiers.tests import factories as f

    user = TitulaireFactory(email="achat@exemple.fr")
    f.give_rights(user, 75_000)
    dossier = f.proposed(user, f.session_for(organisme), organisme_user)
    FranceConnectIdentity.objects.create(user=user, sub="sub-achat", acr="eidas1")
    accept = f"/mes-dossiers/{dossier.numero}/acceptation/"
    come_back(client, franceconnect, "sub-achat", acr="eidas1")
    assert "Confirmer mon identité" in client.get(accept).content.decode()
    client.post("/deconnexion/")
    come_back(client, franceconnect, "sub-achat", acr="eidas2")
    page = client.get(accept).content.decode()
    assert "Confirmer mon identité" not in page and "et accepter" in page
