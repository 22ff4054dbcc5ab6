"""« Espace organisme » → « API et webhooks » (Responsable des accès): the organisme's API keys
(each shown once) and webhook endpoints with their delivery log; and the API's documentation
page, drawn from its OpenAPI document."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cpf_portal.http import posted
from equipes.permissions import Right, organisme_required

from . import keys, webhooks
from .forms import ApiKeyForm, WebhookForm
from .models import ApiKey, Delivery, WebhookEndpoint

DELIVERIES_SHOWN = 50


@organisme_required(Right.EQUIPE_GERER)
@require_http_methods(["GET", "POST"])
def api_keys(request):
    organisme = request.user.organisme
    form, plain = ApiKeyForm(posted(request)), None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                key, plain = keys.key_create(
                    organisme=organisme,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.expires_at(),
                    by=request.user,
                )
                form = ApiKeyForm()
            except ValidationError as error:
                form.add_service_errors(error)
        if plain is None:
            status = 400
    context = {"form": form, "plain": plain, "keys": ApiKey.objects.filter(organisme=organisme).select_related("created_by")}
    return render(request, "api/keys.html", context, status=status)


@organisme_required(Right.EQUIPE_GERER)
@require_POST
def api_key_revoke(request, public_id):
    key = get_object_or_404(ApiKey.objects.filter(organisme=request.user.organisme), public_id=public_id)
    keys.key_revoke(key=key, by=request.user)
    messages.success(request, f"La clé « {key.name} » est révoquée : elle ne donne plus accès à l'API.")
    return redirect("api:keys")


@organisme_required(Right.EQUIPE_GERER)
@require_http_methods(["GET", "POST"])
def webhook_list(request):
    organisme = request.user.organisme
    form = WebhookForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhooks.endpoint_add(organisme=organisme, url=form.cleaned_data["url"], events=form.cleaned_data["events"], by=request.user)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, "Le point de réception est ajouté. Vérifiez la signature des envois avec le secret ci-dessous.")
            return redirect("api:webhook", public_id=endpoint.public_id)
    context = {"form": form, "endpoints": WebhookEndpoint.objects.filter(organisme=organisme)}
    return render(request, "api/webhooks.html", context, status=400 if form.errors else 200)


def _endpoint(request, public_id) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.filter(organisme=request.user.organisme), public_id=public_id)


@organisme_required(Right.EQUIPE_GERER)
@require_GET
def webhook_detail(request, public_id):
    endpoint = _endpoint(request, public_id)
    deliveries = endpoint.deliveries.order_by("-created_at", "-id")[:DELIVERIES_SHOWN]
    return render(request, "api/webhook_detail.html", {"endpoint": endpoint, "deliveries": deliveries})


@organisme_required(Right.EQUIPE_GERER)
@require_POST
def webhook_toggle(request, public_id):
    endpoint = _endpoint(request, public_id)
    active = request.POST.get("action") == "activer"
    webhooks.endpoint_set_active(endpoint=endpoint, active=active, by=request.user)
    messages.success(request, "Le point de réception est actif." if active else "Le point de réception est désactivé : rien ne lui est plus envoyé.")
    return redirect("api:webhook", public_id=public_id)


@organisme_required(Right.EQUIPE_GERER)
@require_POST
def delivery_replay(request, public_id, delivery_id):
    endpoint = _endpoint(request, public_id)
    delivery = get_object_or_404(Delivery.objects.filter(endpoint=endpoint), pk=delivery_id)
    webhooks.replay(delivery=delivery)
    messages.success(request, "L'événement sera envoyé de nouveau dans un instant (même identifiant d'événement).")
    return redirect("api:webhook", public_id=public_id)


@require_GET
def docs(request):
    """The API's documentation, from its OpenAPI document (no script, no CDN)."""
    from .v1 import api

    schema = api.get_openapi_schema()
    operations = [
        {"method": method.upper(), "path": path, **operation} for path, methods in schema["paths"].items() for method, operation in methods.items()
    ]
    tags = {}
    for operation in operations:
        tags.setdefault((operation.get("tags") or ["Général"])[0], []).append(operation)
    return render(request, "api/docs.html", {"schema": schema, "tags": tags})
