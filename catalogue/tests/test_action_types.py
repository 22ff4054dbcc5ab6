"""The « type d'action » (a certification of a repertory, or one of the eligible actions
without one: permis, bilan de compétences, VAE, création d'entreprise) and the « niveau de
sortie »: search facets, shown on cards and detail pages, kept in the index by triggers."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from catalogue.models import ACTION_TYPES, Certification, FormationIndex
from catalogue.search import SearchQuery, search
from catalogue.tests.factories import CertificationFactory, FormationFactory, SessionFactory, commune

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer():
    metz = commune("metz")
    made = {}
    for key, (ctype, code, niveau, title) in {
        "permis": ("PERMIS", "PERMIS-B", "", "Permis B accéléré"),
        "bilan": ("BILAN", "BILAN", "", "Bilan de compétences en 24 heures"),
        "bts": ("RNCP", "38365", "5", "BTS Management commercial opérationnel"),
        "licence": ("RNCP", "39999", "6", "Licence professionnelle commerce"),
        "toeic": ("RS", "5367", "", "Anglais TOEIC"),
    }.items():
        certification = CertificationFactory(type=ctype, code=code, niveau=niveau, libelle=title)
        formation = FormationFactory(intitule=title, certification=certification)
        SessionFactory(formation=formation, commune=metz)
        made[key] = formation
    return made


def found(**kwargs) -> set[str]:
    """Titles found around Metz (a search needs words or a place)."""
    query = SearchQuery(commune=commune("metz"), **kwargs)
    return {hit.formation.intitule for hit in search(query, today=timezone.localdate()).hits}


def test_each_type_d_action_is_a_facet(offer):
    assert found(certification_type="PERMIS") == {"Permis B accéléré"}
    assert found(certification_type="BILAN") == {"Bilan de compétences en 24 heures"}
    assert found(certification_type="RNCP") == {"BTS Management commercial opérationnel", "Licence professionnelle commerce"}
    assert len(found()) == 5


def test_the_niveau_de_sortie_is_a_facet_and_follows_the_certification(offer):
    assert found(niveau="5") == {"BTS Management commercial opérationnel"}
    assert found(niveau="6", certification_type="RNCP") == {"Licence professionnelle commerce"}
    certification = offer["bts"].certification
    certification.niveau = "6"
    certification.save(update_fields=["niveau"])  # the index follows by trigger
    assert FormationIndex.objects.get(formation=offer["bts"]).niveau == "6"
    assert found(niveau="6") == {"BTS Management commercial opérationnel", "Licence professionnelle commerce"}


def test_cards_and_the_form_show_the_types(client, offer):
    page = client.get(reverse("catalogue:search"), {"ou": "Metz (57000)", "certification": "PERMIS"}).content.decode()
    assert ">Permis de conduire<" in page and "Type d&#x27;action" in page and "Niveau de sortie" in page
    page = client.get(reverse("catalogue:search"), {"ou": "Metz (57000)", "niveau": "5"}).content.decode()
    assert "RNCP 38365" in page and "Niveau 5" in page
    detail = client.get(reverse("catalogue:detail", args=[offer["permis"].numero])).content.decode()
    assert "Permis de conduire" in detail
    assert list(ACTION_TYPES) == ["RNCP", "RS", "PERMIS", "BILAN", "VAE", "CREATION"]


def test_the_former_autre_certifications_get_their_own_type():
    migration = importlib.import_module("catalogue.migrations.0013_action_types")
    rows = {
        "PERMIS-A": "Permis de conduire moto",
        "BC-24": "Bilan de compétences",
        "VAE-ACC": "Accompagnement à la validation des acquis de l'expérience",
        "CREA": "Création ou reprise d'entreprise",
        "DIVERS": "Formation de formateurs",
    }
    for code, libelle in rows.items():
        Certification.objects.create(type="AUTRE", code=code, libelle=libelle)
    migration.retype(apps, None)
    kinds = dict(Certification.objects.filter(code__in=rows).values_list("code", "type"))
    assert kinds == {"PERMIS-A": "PERMIS", "BC-24": "BILAN", "VAE-ACC": "VAE", "CREA": "CREATION", "DIVERS": "AUTRE"}
