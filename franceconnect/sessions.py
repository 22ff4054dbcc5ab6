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


def end_session_on_logout(sender, request, user, **kwargs):
    """Django's user_logged_out, sent before the session is emptied: a person who came through
    FranceConnect is then sent to FranceConnect's end-session endpoint, back to the site's home
    (accounts' LogoutView follows ``request.end_session_url``). Nothing when FranceConnect is
    off or cannot be reached: the local logout is done anyway."""
    id_token = request.session.get(ID_TOKEN_KEY) if getattr(request, "session", None) is not None else None
    if not id_token or not client.enabled() or not ({"HTTP_HOST", "SERVER_NAME"} & request.META.keys()):
        return  # (a logout without an HTTP request, as the test client's logout(), has no address)
    url = client.logout_url(id_token=id_token, post_logout_redirect_uri=request.build_absolute_uri(reverse("home")))
    if url:
        request.end_session_url = url
