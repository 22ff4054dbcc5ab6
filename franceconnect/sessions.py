"""What a FranceConnect login keeps in the session, and the logout that ends it at FranceConnect too."""

from django.urls import reverse

from . import client

# The ID token of the FranceConnect login, sent back as id_token_hint at logout.
ID_TOKEN_KEY = "franceconnect_id_token"
# Where to go after the login (the login page's « next »).
NEXT_KEY = "franceconnect_next"
# The verified identity waiting for its NIR on « Associer mon compte », and since when.
PENDING_KEY = "franceconnect_pending"
PENDING_MAX_AGE_SECONDS = 15 * 60


def logout_redirect(request, id_token: str | None):
    """After the local logout of a person who came through FranceConnect: the redirect to
    FranceConnect's end-session endpoint, back to the site's home. None otherwise, or when
    FranceConnect is off or cannot be reached."""
    if not id_token or not client.enabled():
        return None
    return client.logout_redirect(request, id_token=id_token, post_logout_redirect_uri=request.build_absolute_uri(reverse("home")))
