"""A real OpenID Connect provider for the FranceConnect tests: oidc-provider-mock's Flask app
served by werkzeug on 127.0.0.1 in a thread. The site talks to it over HTTP (discovery, JWKS,
token, userinfo, end session) exactly as it talks to FranceConnect; the test plays the person
at its authorization page.

Its fixtures are imported by the test modules that need them (franceconnect/tests, e2e)."""

import base64
import copy
import json
import os
import socket
import threading
from urllib.parse import urlsplit

import pytest
import requests
import werkzeug.serving
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CLIENT_ID = "cpf-portal-test"
CLIENT_SECRET = "secret-de-test-franceconnect"
# oidc-provider-mock knows the standard OpenID scopes only: FranceConnect's given_name,
# family_name and birthdate come with « profile » there (birthplace, acr: always).
# The identity FranceConnect gives in the tests (a person born in Metz on 17 May 1990).
CLAIMS = {
    "given_name": "Angela Claire",
    "family_name": "Dubois",
    "birthdate": "1990-05-17",
    "birthplace": "57463",
    "email": "angela.dubois@franceconnect.example",
    "acr": "eidas1",
}

SCOPES = ["openid", "given_name", "family_name", "birthdate", "birthplace", "email", "profile"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(id_token: str) -> str:
    """The same header and claims, signed by a key that is not the provider's."""
    header, payload, _signature = id_token.split(".")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


class Provider:
    """The provider's WSGI app. ``tamper_id_token`` makes its token endpoint hand out a forged
    ID token (as a man in the middle would)."""

    def __init__(self):
        # Imported here, not at the top: e2e/conftest.py imports this module for every browser
        # test, and the import warns (Authlib deprecations) before pytest's filters apply.
        import oidc_provider_mock

        self.app = oidc_provider_mock.app(require_nonce=True)
        self.tamper_id_token = False
        self.issuer = ""

    def __call__(self, environ, start_response):
        if not (self.tamper_id_token and environ.get("PATH_INFO") == "/oauth2/token"):
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        result = self.app(environ, capture)
        try:
            data = json.loads(b"".join(result))
        finally:
            getattr(result, "close", lambda: None)()
        if "id_token" in data:
            data["id_token"] = forged(data["id_token"])
        body = json.dumps(data).encode()
        headers = [(name, value) for name, value in captured["headers"] if name.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def set_user(self, sub: str, **claims):
        """The claims the provider gives for ``sub`` (oidc-provider-mock's PUT /users/<sub>)."""
        requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def authorize(self, authorize_url: str, sub: str | None = None) -> str:
        """Play the person on the provider's page: authorize as ``sub`` (or deny when None);
        return where the provider sends the browser back."""
        data = {"sub": sub} if sub else {"action": "deny"}
        answer = requests.post(authorize_url, data=data, allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["Location"]

    def metadata(self) -> dict:
        return requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5).json()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture(scope="session")
def oidc_provider():
    # The provider's own OAuth checks refuse plain HTTP off « localhost ».
    previous = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    provider = Provider()
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider, threaded=True)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        if previous is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["AUTHLIB_INSECURE_TRANSPORT"] = previous


@pytest.fixture
def franceconnect(settings, oidc_provider):
    """FranceConnect configured against the running provider."""
    settings.FRANCECONNECT_ISSUER = oidc_provider.issuer
    settings.FRANCECONNECT_CLIENT_ID = CLIENT_ID
    settings.FRANCECONNECT_CLIENT_SECRET = CLIENT_SECRET
    settings.FRANCECONNECT_ACR_VALUES = "eidas1"
    settings.FRANCECONNECT_SCOPES = SCOPES
    settings.ROOT_URLCONF = "franceconnect.tests.urls"
    # As settings.py does for the configured issuer: the forms may be redirected there.
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [*policy["DIRECTIVES"]["form-action"], oidc_provider.issuer]
    settings.CONTENT_SECURITY_POLICY = policy
    oidc_provider.tamper_id_token = False
    yield oidc_provider
    oidc_provider.tamper_id_token = False
