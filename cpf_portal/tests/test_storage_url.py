"""STORAGE_URL: an S3-compatible object store described by one URL; a malformed one stops
the start with a French message."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage

from cpf_portal.settings import storage_from_url


def test_a_full_url_gives_a_private_bucket_with_short_signed_urls():
    config = storage_from_url("s3://AKIA123:se%2Fcr%40et@objets.example.fr:9000/documents/cpf?region=fr-par&secure=false")
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    options = config["OPTIONS"]
    assert (options["bucket_name"], options["location"]) == ("documents", "cpf")
    assert options["endpoint_url"] == "http://objets.example.fr:9000"
    assert (options["access_key"], options["secret_key"]) == ("AKIA123", "se/cr@et")
    assert options["region_name"] == "fr-par"
    assert options["default_acl"] is None  # the bucket's own ACL: private
    assert options["querystring_auth"] is True and options["querystring_expire"] == 60
    assert options["file_overwrite"] is False
    assert options["client_config"].s3 == {"addressing_style": "path"}
    # Every option is one django-storages knows (it refuses the others).
    storage = S3Storage(**options)
    assert storage.bucket_name == "documents" and storage.location == "cpf"


def test_defaults_are_https_on_the_standard_port_and_the_default_region():
    options = storage_from_url("s3://cle:secret@s3.example.fr/documents")["OPTIONS"]
    assert options["endpoint_url"] == "https://s3.example.fr"
    assert (options["bucket_name"], options["location"], options["region_name"]) == ("documents", "", "us-east-1")


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://cle:secret@s3.example.fr/documents", "schéma attendu s3://"),
        ("s3://cle:secret@s3.example.fr:port/documents", "le port n'est pas un nombre valide"),
        ("s3://cle:secret@/documents", "l'hôte du stockage objet manque"),
        ("s3://s3.example.fr/documents", "la clé d'accès et le secret sont obligatoires"),
        ("s3://cle@s3.example.fr/documents", "la clé d'accès et le secret sont obligatoires"),
        ("s3://cle:secret@s3.example.fr/", "le nom du bucket manque"),
        ("s3://cle:secret@s3.example.fr/documents?acl=public-read", "paramètre inconnu acl"),
        ("s3://cle:secret@s3.example.fr/documents?secure=peut-être", "secure='peut-être' n'est pas un booléen"),
    ],
)
def test_malformed_urls_are_refused(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        storage_from_url(url)
