"""The titulaire's documents as PDF (reportlab, like ``billing.pdf``): the payment receipt,
the attestation de droits at a date, the certificat de réalisation of a finished training.
Each ``render_*`` takes plain values read by ``services`` and returns the PDF's bytes."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cpf_portal.money import euros

ISSUER = "Mon Compte Formation — Caisse des Dépôts et Consignations"


def money(cents: int) -> str:
    """« 1 740,00 € » with plain spaces and a plain minus (the PDF's standard fonts have
    neither the narrow no-break space nor U+2212)."""
    return euros(cents).replace("\u202f", " ").replace("\u00a0", " ").replace("\u2212", "-")


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    bold: bool = False


def _document(title: str, author: str):
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=title, author=author, leftMargin=18 * mm, rightMargin=18 * mm)
    return buffer, document


def _styles():
    styles = getSampleStyleSheet()
    return styles, styles["Normal"], styles["Normal"].clone("small", fontSize=8, leading=10)


def _table(rows: list[list], widths, *, header: bool = False, bold_rows=()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
    ]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e3fd")), ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold")]
    style += [("FONTNAME", (0, index), (-1, index), "Helvetica-Bold") for index in bold_rows]
    table.setStyle(TableStyle(style))
    return table


def _key_values(rows: list[Row], normal) -> Table:
    def cell(text: str, bold: bool) -> Paragraph:
        return Paragraph(f"<b>{escape(text)}</b>" if bold else escape(text), normal)

    return _table([[cell(row.label, row.bold), cell(row.value, row.bold)] for row in rows], [95 * mm, 79 * mm])


def _head(styles, normal, title: str, holder: list[str], issued: datetime.date) -> list:
    return [
        Paragraph(f"<b>{escape(ISSUER)}</b>", normal),
        Spacer(1, 6 * mm),
        Paragraph(escape(title), styles["Heading1"]),
        Paragraph("Titulaire : " + "<br/>".join(escape(line) for line in holder if line), normal),
        Paragraph(f"Document établi le {issued:%d/%m/%Y}", normal),
        Spacer(1, 6 * mm),
    ]


def render_receipt(
    *,
    receipt_number: str,
    holder: list[str],
    paid_at: datetime.datetime,
    purpose: str,
    card: str,
    status: str,
    amount_cents: int,
    split: list[Row],
    issued: datetime.date,
) -> bytes:
    """The card payment's receipt, with the dossier's financing it settles."""
    styles, normal, small = _styles()
    title = f"Reçu de paiement n° {receipt_number}"
    buffer, document = _document(title, ISSUER)
    story = _head(styles, normal, title, holder, issued)
    rows = [
        Row("Objet", purpose),
        Row("Date du paiement", f"{paid_at:%d/%m/%Y à %H:%M}"),
        Row("Moyen de paiement", card),
        Row("État", status),
        Row("Montant payé", money(amount_cents), bold=True),
    ]
    story += [_key_values(rows, normal), Spacer(1, 6 * mm)]
    if split:
        story += [Paragraph("Financement de la formation", styles["Heading2"]), _key_values(split, normal), Spacer(1, 6 * mm)]
    story.append(Paragraph("Conservez ce reçu. En cas d'annulation dans les conditions prévues, le montant payé est remboursé.", small))
    document.build(story)
    return buffer.getvalue()


def render_rights(
    *,
    holder: list[str],
    as_of: datetime.date,
    acquired_cents: int,
    locked_cents: int,
    available_cents: int,
    movements: list[tuple[datetime.date, str, str]],
    issued: datetime.date,
) -> bytes:
    """The attestation de droits: the balances at the end of ``as_of`` and every movement up to it."""
    styles, normal, small = _styles()
    title = f"Attestation de droits au {as_of:%d/%m/%Y}"
    buffer, document = _document(title, ISSUER)
    story = _head(styles, normal, title, holder, issued)
    story.append(Paragraph(f"La Caisse des Dépôts atteste que le compte personnel de formation du titulaire présente au {as_of:%d/%m/%Y} :", normal))
    story.append(Spacer(1, 3 * mm))
    story += [
        _key_values(
            [
                Row("Droits acquis", money(acquired_cents)),
                Row("Droits bloqués (formations acceptées)", money(locked_cents)),
                Row("Droits disponibles", money(available_cents), bold=True),
            ],
            normal,
        ),
        Spacer(1, 6 * mm),
        Paragraph("Historique des mouvements", styles["Heading2"]),
    ]
    if movements:
        rows = [["Date", "Libellé", "Montant"]] + [[f"{day:%d/%m/%Y}", Paragraph(escape(label), small), amount] for day, label, amount in movements]
        story.append(_table(rows, [24 * mm, 116 * mm, 34 * mm], header=True))
    else:
        story.append(Paragraph("Aucun mouvement à cette date.", normal))
    document.build(story)
    return buffer.getvalue()


def render_certificate(
    *,
    holder: list[str],
    numero: str,
    formation: str,
    organisme: list[str],
    start: str,
    end: str,
    hours_planned: int,
    hours_done: str,
    completion_rate: int,
    exit_reason: str,
    validated: datetime.date,
    issued: datetime.date,
) -> bytes:
    """The certificat de réalisation (attestation de fin de formation) once the service fait is validated."""
    styles, normal, small = _styles()
    title = "Certificat de réalisation"
    buffer, document = _document(title, ISSUER)
    story = _head(styles, normal, f"{title} — attestation de fin de formation", holder, issued)
    story += [
        _key_values(
            [
                Row("Dossier", f"n° {numero}"),
                Row("Formation", formation),
                Row("Organisme de formation", ", ".join(organisme)),
                Row("Début de la formation", start),
                Row("Fin de la formation", end),
                Row("Durée prévue", f"{hours_planned} h"),
                Row("Heures réalisées", hours_done, bold=True),
                Row("Taux de réalisation", f"{completion_rate} %"),
                Row("Motif de sortie", exit_reason),
                Row("Service fait validé le", f"{validated:%d/%m/%Y}"),
            ],
            normal,
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            "Établi d'après la déclaration de service fait de l'organisme de formation, validée par la Caisse des Dépôts "
            "(article L6353-1 du code du travail ; le certificat de réalisation tient lieu d'attestation de fin de formation).",
            small,
        ),
    ]
    document.build(story)
    return buffer.getvalue()
