"""An invoice or credit note as a PDF (reportlab), rendered once when it is issued and kept
privately with it: seller (the organisme), buyer (the Caisse des Dépôts, settings), number,
dates, one line per dossier (HT, TVA rate, TVA, TTC), totals and the legal mentions of a
French invoice (code de commerce L441-9 and L441-10; CGI 242 nonies A)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cpf_portal.money import euros

from .models import tva_label


def money(cents: int) -> str:
    """« 1 740,00 € » with plain spaces (the PDF's standard fonts have no narrow no-break space)."""
    return euros(cents).replace("\u202f", " ").replace("\u00a0", " ")


def render(invoice, lines, bank) -> bytes:
    styles = getSampleStyleSheet()
    normal, small = styles["Normal"], styles["Normal"].clone("small", fontSize=8, leading=10)
    organisme, payer = invoice.organisme, settings.BILLING_PAYER
    credit = invoice.kind == "avoir"
    title = f"{'Avoir' if credit else 'Facture'} n° {invoice.number}"
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=title, author=organisme.raison_sociale, leftMargin=18 * mm, rightMargin=18 * mm)

    def p(text: str, style=normal) -> Paragraph:
        return Paragraph(text, style)

    seller = "<br/>".join(
        escape(part)
        for part in (
            organisme.raison_sociale,
            organisme.address,
            f"{organisme.postal_code} {organisme.city}".strip(),
            f"SIRET {organisme.siret}",
            f"Déclaration d'activité n° {organisme.nda}" if organisme.nda else "",
        )
        if part
    )
    buyer = "<br/>".join(escape(part) for part in (payer["name"], *payer["address"]))
    issued = timezone.localtime(invoice.issued_at)
    story = [
        Table([[p(f"<b>Émetteur</b><br/>{seller}"), p(f"<b>Client</b><br/>{buyer}")]], colWidths=[87 * mm, 87 * mm]),
        Spacer(1, 8 * mm),
        p(f"<b>{escape(title)}</b>", styles["Heading1"]),
        p(f"Date d'émission : {issued:%d/%m/%Y}"),
    ]
    if credit:
        story.append(p(f"Annule la facture n° {escape(invoice.credited_invoice.number)}. Motif : {escape(invoice.reason)}"))
    else:
        story.append(p(f"Date d'échéance : {invoice.due_date:%d/%m/%Y} (paiement à 30 jours)"))
    story.append(Spacer(1, 6 * mm))
    rows = [["Désignation", "HT", "TVA", "Montant TVA", "TTC"]]
    rows += [
        [p(escape(line.label), small), money(line.ht_cents), tva_label(line.tva_rate), money(line.tva_cents), money(line.ttc_cents)] for line in lines
    ]
    rows += [
        ["Total HT", money(invoice.total_ht_cents), "", "", ""],
        ["Total TVA", "", "", money(invoice.total_tva_cents), ""],
        [f"Total TTC {'à déduire' if credit else 'à payer'}", "", "", "", money(invoice.total_ttc_cents)],
    ]
    table = Table(rows, colWidths=[78 * mm, 25 * mm, 20 * mm, 25 * mm, 26 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e3fd")),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm)]
    mentions = []
    if any(line.tva_rate == 0 for line in lines):
        mentions.append("TVA non applicable aux prestations exonérées, article 261-4-4° a du code général des impôts.")
    if not credit:
        mentions += [
            "Conditions de paiement : virement à 30 jours à compter de la date d'émission ; pas d'escompte pour paiement anticipé.",
            "En cas de retard de paiement : pénalités au taux d'intérêt légal majoré de 10 points et indemnité forfaitaire "
            "de 40 € pour frais de recouvrement (articles L441-10 et D441-5 du code de commerce).",
        ]
        if bank:
            mentions.append(f"Règlement sur le compte de {bank.holder} — IBAN {bank.iban} — BIC {bank.bic}.")
    story += [p(escape(mention), small) for mention in mentions]
    document.build(story)
    return buffer.getvalue()
