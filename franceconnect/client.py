"""FranceConnect's OpenID Connect client (Authlib), built from the settings.

Authorization code flow with PKCE (S256), ``state`` and ``nonce`` checked by Authlib, the ID
token's signature checked against the provider's JWKS (found in its discovery document),
``acr_values`` sent and the level that comes back checked. Everything that can go wrong on
the way is raised as ``LoginFailed`` with a French reason for the login page.
"""

import dataclasses
import datetime
import functools
import time

import requests
from authlib.integrations.django_client import OAuth, OAuthError
from authlib.integrations.django_client.apps import DjangoOAuth2App
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from .models import AcrLevel

NAME = "franceconnect"
# The discovery document and the keys are read again after this long (key rotation).
METADATA_MAX_AGE_SECONDS = 3600


class LoginFailed(Exception):
    """The FranceConnect login could not be completed; ``reason`` is shown to the person."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class VerifiedIdentity:
    """What FranceConnect vouched for, once the ID token was checked."""

    sub: str
    given_name: str
    family_name: str
    birthdate: datetime.date
    birthplace: str
    email: str
    acr: str
    id_token: str

    def to_session(self) -> dict:
        return {**dataclasses.asdict(self), "birthdate": self.birthdate.isoformat()}

    @classmethod
    def from_session(cls, data: dict) -> "VerifiedIdentity":
        return cls(**{**data, "birthdate": datetime.date.fromisoformat(data["birthdate"])})


def enabled() -> bool:
    """FranceConnect is offered only when the provider and the client are configured."""
    return bool(settings.FRANCECONNECT_ISSUER and settings.FRANCECONNECT_CLIENT_ID and settings.FRANCECONNECT_CLIENT_SECRET)


@functools.lru_cache(maxsize=4)
def _registered(issuer: str, client_id: str, client_secret: str, scope: str, timeout: int) -> DjangoOAuth2App:
    # One client per configuration (tests change it), kept so that the discovery document and
    # the JWKS are not fetched at every login.
    return OAuth().register(
        name=NAME,
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": scope,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_post",
            "default_timeout": timeout,
        },
    )


def _app() -> DjangoOAuth2App:
    app = _registered(
        settings.FRANCECONNECT_ISSUER,
        settings.FRANCECONNECT_CLIENT_ID,
        settings.FRANCECONNECT_CLIENT_SECRET,
        " ".join(settings.FRANCECONNECT_SCOPES),
        settings.FRANCECONNECT_TIMEOUT_SECONDS,
    )
    loaded_at = app.server_metadata.get("_loaded_at")
    if loaded_at is not None and time.time() - loaded_at > METADATA_MAX_AGE_SECONDS:
        app.server_metadata.clear()
    return app


PROVIDER_DOWN = "le service FranceConnect ne répond pas pour le moment."


def authorize_redirect(request, redirect_uri: str):
    """The redirect to FranceConnect's authorization endpoint (state, nonce and PKCE verifier
    kept in the session)."""
    try:
        return _app().authorize_redirect(request, redirect_uri, acr_values=settings.FRANCECONNECT_ACR_VALUES)
    except (requests.RequestException, ValueError, RuntimeError) as error:
        raise LoginFailed(PROVIDER_DOWN) from error


def identity_from_callback(request) -> VerifiedIdentity:
    """Exchange the code for the tokens and return the identity, checked; or raise LoginFailed."""
    app = _app()
    error = request.GET.get("error")
    if error == "access_denied":
        raise LoginFailed("vous avez annulé la connexion sur FranceConnect.")
    if error:
        raise LoginFailed(f"FranceConnect a refusé la demande ({error[:60]}).")
    try:
        token = app.authorize_access_token(request)
    except OAuthError as failure:
        if failure.error == "mismatching_state":
            raise LoginFailed("la demande de connexion a expiré ou ne vient pas de ce site.") from failure
        raise LoginFailed("FranceConnect n'a pas accepté la demande de connexion.") from failure
    except JoseError as failure:
        raise LoginFailed("l'identité transmise par FranceConnect n'a pas pu être vérifiée.") from failure
    except (requests.RequestException, ValueError, RuntimeError) as failure:
        raise LoginFailed(PROVIDER_DOWN) from failure
    except KeyError as failure:  # a token response without what OpenID Connect requires
        raise LoginFailed("FranceConnect n'a pas transmis de jeton d'identité.") from failure
    id_claims = token.get("userinfo")
    if not id_claims or "id_token" not in token:
        raise LoginFailed("FranceConnect n'a pas transmis de jeton d'identité.")
    claims = {**_userinfo(app, token, id_claims["sub"]), "sub": id_claims["sub"]}
    acr = id_claims.get("acr", "")
    if AcrLevel.rank(acr) < AcrLevel.rank(settings.FRANCECONNECT_ACR_VALUES):
        raise LoginFailed("le niveau de garantie de l'identité transmise est insuffisant.")
    return _identity(claims, acr=acr, id_token=token["id_token"])


def _userinfo(app: DjangoOAuth2App, token: dict, sub: str) -> dict:
    """The identity claims from the userinfo endpoint: JSON, or a JWT signed with the
    provider's keys (FranceConnect v2). Its ``sub`` must be the ID token's."""
    try:
        metadata = app.load_server_metadata()
        response = app.get(metadata["userinfo_endpoint"], token=token)
        response.raise_for_status()
        if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
            keys = KeySet.import_key_set(app.fetch_jwk_set())
            algorithms = metadata.get("userinfo_signing_alg_values_supported") or metadata.get("id_token_signing_alg_values_supported")
            claims = jwt.decode(response.text, keys, registry=JWSRegistry(algorithms=algorithms)).claims
        else:
            claims = response.json()
    except JoseError as failure:
        raise LoginFailed("l'identité transmise par FranceConnect n'a pas pu être vérifiée.") from failure
    except (requests.RequestException, ValueError, KeyError) as failure:
        raise LoginFailed(PROVIDER_DOWN) from failure
    if not isinstance(claims, dict) or claims.get("sub") != sub:
        raise LoginFailed("l'identité transmise par FranceConnect n'a pas pu être vérifiée.")
    return claims


def _identity(claims: dict, *, acr: str, id_token: str) -> VerifiedIdentity:
    try:
        birthdate = datetime.date.fromisoformat(str(claims.get("birthdate", "")))
    except ValueError:
        raise LoginFailed("FranceConnect n'a pas transmis de date de naissance lisible.") from None
    given_name, family_name = str(claims.get("given_name", "")).strip(), str(claims.get("family_name", "")).strip()
    if not given_name or not family_name:
        raise LoginFailed("FranceConnect n'a pas transmis vos nom et prénoms.")
    return VerifiedIdentity(
        sub=str(claims["sub"]),
        given_name=given_name,
        family_name=family_name,
        birthdate=birthdate,
        birthplace=str(claims.get("birthplace") or ""),
        email=str(claims.get("email") or "").strip().lower(),
        acr=acr,
        id_token=id_token,
    )


def logout_url(*, id_token: str, post_logout_redirect_uri: str) -> str | None:
    """FranceConnect's end-session URL (id_token_hint, a fresh state, the way back), or None
    when the provider cannot be reached."""
    try:
        return _app().create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri, id_token_hint=id_token)["url"]
    except (requests.RequestException, ValueError, RuntimeError):
        return None
