"""The site's URLs and a bare view: the floor of what Django serves on this machine, through
the same middleware, with no database and no template."""

from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/nu/", bare), path("", include("cpf_portal.urls"))]
