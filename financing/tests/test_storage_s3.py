"""DIF attestations in object storage (STORAGE_URL), end to end on a real S3-compatible server
(SeaweedFS, see conftest.py): upload through the DIF form, a private object in the bucket,
downloads streamed through the app with the usual access checks, erasure with the account."""

import datetime
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.urls import reverse
from django.utils import timezone
from storages.backends.s3 import S3Storage

from accounts.models import User
from cpf_portal.testing import text
from financing.models import DifAttestation
from financing.tests.factories import PDF_BYTES, pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dif_open(settings):
    settings.CPF_DIF_DEADLINE = timezone.localdate() + datetime.timedelta(days=40)


def upload_through_the_form(client, titulaire) -> DifAttestation:
    client.force_login(titulaire)
    data = {
        "situation": "un",
        "attestation-TOTAL_FORMS": "1",
        "attestation-INITIAL_FORMS": "0",
        "attestation-MIN_NUM_FORMS": "0",
        "attestation-MAX_NUM_FORMS": "3",
        "attestation-0-employer": "Boulangerie Dupain",
        "attestation-0-hours": "40",
        "attestation-0-issued_on": "2014-12-31",
        "attestation-0-file": pdf("mon attestation.pdf"),
    }
    response = client.post(reverse("financing:dif"), data, follow=True)
    assert "40 h de DIF enregistrées" in text(response)
    return DifAttestation.objects.get(declaration__account__user=titulaire)


def anonymous_get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_uploaded_attestation_is_a_private_object_in_the_bucket(client, titulaire, s3_storage):
    item = upload_through_the_form(client, titulaire)
    assert isinstance(item.file.storage, S3Storage)
    assert s3_storage.keys() == [s3_storage.key(item.file.name)]
    stored = s3_storage.server.client().get_object(Bucket=s3_storage.bucket, Key=s3_storage.key(item.file.name))["Body"].read()
    assert stored == PDF_BYTES
    # Private: the object's plain address is refused without a signature...
    assert anonymous_get_status(f"{s3_storage.server.endpoint}/{s3_storage.bucket}/{s3_storage.key(item.file.name)}") == 403
    # ...and the storage's own URLs are signed and short-lived (the app streams instead).
    signed = item.file.storage.url(item.file.name)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(signed).query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    assert anonymous_get_status(signed) == 200


def test_downloads_go_through_the_app_with_the_same_access_checks(client, titulaire, other_titulaire, organisme_user, operator, s3_storage):
    item = upload_through_the_form(client, titulaire)
    url = reverse("financing:attestation", args=[item.public_id])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert response.getvalue() == PDF_BYTES
    assert s3_storage.bucket not in str(response.headers)  # no bucket address handed out
    client.force_login(other_titulaire)
    assert client.get(url).status_code == 404
    client.force_login(organisme_user)
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(operator)
    response = client.get(reverse("admin:financing_difattestation_file", args=[item.public_id]))
    assert response.status_code == 200 and response.getvalue() == PDF_BYTES


def test_an_object_missing_from_the_bucket_is_404(client, titulaire, s3_storage):
    item = upload_through_the_form(client, titulaire)
    s3_storage.server.client().delete_object(Bucket=s3_storage.bucket, Key=s3_storage.key(item.file.name))
    assert client.get(reverse("financing:attestation", args=[item.public_id])).status_code == 404


def test_account_deletion_removes_the_object(client, titulaire, password, s3_storage):
    item = upload_through_the_form(client, titulaire)
    assert s3_storage.keys() == [s3_storage.key(item.file.name)]
    response = client.post(reverse("mes_donnees:my-data"), {"password": password, "confirm": "on"}, follow=True)
    assert "Votre compte est supprimé" in text(response)
    assert User.objects.get(pk=titulaire.pk).anonymized_at is not None
    assert s3_storage.keys() == []
    item.refresh_from_db()
    assert not item.file and item.employer == "(effacé)"
