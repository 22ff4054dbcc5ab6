"""« Mes documents »: the titulaire's PDFs, listed and downloaded by their owner only."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import titulaire_required
from cpf_portal.http import private_file
from dossiers.models import Dossier
from dossiers.states import Status
from financing.models import Payment

from . import services
from .models import Document


def _serve(document: Document) -> FileResponse:
    return private_file(document.file, as_attachment=True, content_type="application/pdf", filename=document.filename)


@titulaire_required
def documents_list(request):
    user = request.user
    receipts = (
        Payment.objects.filter(user=user, status__in=services.RECEIPT_STATUSES, receipt_number__isnull=False)
        .select_related("dossier__formation")
        .order_by("-paid_at", "-id")
    )
    certificates = (
        Dossier.objects.for_titulaire(user)
        .filter(status=Status.DEBITED, completion_rate__isnull=False)
        .select_related("formation", "organisme")
        .order_by("-debited_at", "-id")
    )
    attestations = Document.objects.for_owner(user).filter(kind=Document.Kind.RIGHTS).order_by("-created_at", "-id")
    context = {
        "receipts": receipts,
        "certificates": certificates,
        "page": Paginator(attestations, 20).get_page(request.GET.get("page")),
        "query_prefix": "",
    }
    return render(request, "documents/list.html", context)


@titulaire_required
@require_POST
def rights_attestation(request):
    document = services.rights_attestation_create(user=request.user)
    messages.success(request, f"Votre attestation de droits au {document.as_of:%d/%m/%Y} est prête : téléchargez-la ci-dessous.")
    return redirect("documents:list")


@titulaire_required
def document_download(request, public_id):
    """A stored document (an attestation de droits, or any other already generated)."""
    queryset = Document.objects.for_owner(request.user).select_related("payment", "dossier")
    return _serve(get_object_or_404(queryset, public_id=public_id))


@titulaire_required
def receipt_download(request, public_id):
    """The receipt PDF of one of my card payments, rendered on the first download."""
    payment = get_object_or_404(
        Payment.objects.select_related("user"),
        public_id=public_id,
        user=request.user,
        status__in=services.RECEIPT_STATUSES,
        receipt_number__isnull=False,
    )
    return _serve(services.receipt_for(payment=payment))


@titulaire_required
def certificate_download(request, numero):
    """The certificat de réalisation of one of my dossiers, once its service fait is validated."""
    dossier = get_object_or_404(Dossier.objects.for_titulaire(request.user).select_related("formation", "organisme", "titulaire"), numero=numero)
    if not services.certificate_available(dossier):
        raise Http404("Le certificat de réalisation est disponible une fois le service fait validé.")
    return _serve(services.certificate_for(dossier=dossier))
