from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_GET


@require_GET
def home(request):
    return render(request, "pages/home.html")


@require_GET
def cgu(request):
    return render(request, "pages/cgu.html")


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # Rendered without a request context: the failure may be the database itself.
    return HttpResponseServerError(loader.get_template("500.html").render())
