"""Names of private uploads (DIF attestations, service-fait proofs): never the name the person
sent, a random one (the row's public id) under a dated folder, its extension from the type read
in the content."""

from django.utils import timezone

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def private_name(folder: str, instance) -> str:
    return f"{folder}/{timezone.now():%Y/%m}/{instance.public_id}.{EXTENSIONS.get(instance.content_type, 'bin')}"
