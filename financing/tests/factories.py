import datetime
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from financing import services

# The smallest valid files of each type (their first bytes are what is checked).
PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def pdf(name="attestation.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def attestation(hours, issued_on=datetime.date(2014, 12, 31), employer="Acme", file=None):
    return services.AttestationInput(
        employer=employer, hours=Decimal(str(hours)), issued_on=issued_on, file=file or pdf(), content_type="application/pdf"
    )


def credit(account, cents, year=2023):
    """Give an account some rights (a yearly credit)."""
    return services._append(account, "alimentation", cents, f"Alimentation du compte {year}", year=year)


def fresh_file(content: bytes, name: str):
    return io.BytesIO(content), name
