"""The project's URLs with FranceConnect's, as cpf_portal/urls.py has them when FranceConnect is
configured at start (the tests configure it afterwards)."""

from django.urls import include, path

from cpf_portal.urls import handler400, handler403, handler404, handler500
from cpf_portal.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("", include("franceconnect.urls"))]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
