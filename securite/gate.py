"""The purchase gate plugged into the dossiers' acceptance (``settings.CPF_PURCHASE_GATE``):
dossiers asks it, by name, what the acceptance page shows, whether a purchase may go on, and
tells it when one is made. dossiers sits below this app and does not import it."""

from django.conf import settings

from . import services


class PurchaseGate:
    template = "securite/_confirm.html"

    @staticmethod
    def context(request, dossier) -> dict:
        """The confirmation part of the acceptance page: confirmed already, or the factors this
        person may use; a refusal (frozen account, anti-fraud hold) in place of both."""
        freeze = services.freeze_of(request.user)
        refusal = services.frozen_refusal(freeze) if freeze else services.fraud_hold(dossier, record=False)
        confirmed = (
            not settings.CPF_PURCHASE_FACTORS
            or services.valid_confirmation(request.user, services.purpose_of(dossier)) is not None
            or services.franceconnect_plus_recent(request)
        )
        return {
            "purchase_refusal": refusal,
            "confirmed": confirmed,
            "factors": services.factors_for(request),
            "confirmation_template": PurchaseGate.template,
        }

    @staticmethod
    def require(request, dossier) -> None:
        services.require(request, dossier)

    @staticmethod
    def done(request, dossier) -> None:
        services.consume(request.user, services.purpose_of(dossier))
        services.purchase_made(user=request.user, dossier=dossier)
