# The running OpenID provider and the settings pointing at it (franceconnect/tests/provider.py).
from franceconnect.tests.provider import franceconnect, oidc_provider  # noqa: F401
