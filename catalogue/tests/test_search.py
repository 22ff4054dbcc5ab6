import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from catalogue import search as search_module
from catalogue import services
from catalogue.models import Certification, FormationIndex
from catalogue.search import SearchQuery, resolve_place, search
from catalogue.tests.factories import CertificationFactory, FormationFactory, SessionFactory, commune, remote_formation
from cpf_portal.testing import text

pytestmark = pytest.mark.django_db
URL = reverse("catalogue:search")


def titles(result):
    return [hit.formation.intitule for hit in result.hits]


def run(**kwargs):
    return search(SearchQuery(**kwargs), today=timezone.localdate())


@pytest.fixture
def english():
    """The seed's training in Metz, a German course in Metz, an English course in Marseille."""
    metz, marseille = commune("metz"), commune("marseille")
    anglais = FormationFactory(
        intitule="Anglais - Test Bright Language - évaluation d'Anglais professionnel",
        objectifs="Évaluer son niveau d'anglais professionnel.",
        duree_heures=10,
    )
    SessionFactory(formation=anglais, commune=metz, price_cents=87000)
    allemand = FormationFactory(intitule="Allemand des affaires", objectifs="Parler allemand au travail.")
    SessionFactory(formation=allemand, commune=metz)
    marseille_course = FormationFactory(intitule="Anglais courant à Marseille", objectifs="Progresser en anglais.")
    SessionFactory(formation=marseille_course, commune=marseille)
    services.search_terms_refresh()
    return anglais


@pytest.mark.parametrize("typed", ["anglais", "Anglais", "ANGLAIS", "anglai", "ànglais", "anglias"])
def test_keyword_ignores_case_accents_and_typos(english, typed):
    result = run(keywords=typed)
    assert english.intitule in titles(result)
    assert "Allemand des affaires" not in titles(result)
    assert result.total == 2


def test_typo_correction_is_reported(english):
    assert run(keywords="anglias").corrections == {"anglias": "anglais"}


def test_stemming_finds_other_forms(english):
    # « évaluations » and « evaluer » share the stem of « évaluation » / « Évaluer ».
    assert english.intitule in titles(run(keywords="évaluations"))
    assert english.intitule in titles(run(keywords="evaluer"))


def test_keyword_searches_organisme_and_certification(english):
    english.organisme.raison_sociale = "CP-FORMATION"
    english.organisme.save()  # the trigger re-indexes its formations
    certification = CertificationFactory(type="RS", code="6225", libelle="Bright Language - évaluation des compétences")
    english.certification = certification
    english.save()
    assert titles(run(keywords="cp-formation")) == [english.intitule]
    assert english.intitule in titles(run(keywords="RS6225"))


def test_a_word_new_to_the_catalogue_is_found_at_once_by_its_beginning():
    """A typed word is searched as the exact words of the lexicon beginning with it: the
    lexicon gets a formation's words in the transaction that writes it, so the search finds
    it at once, as a prefix search would (the vocabulary of corrections waits for the night)."""
    SessionFactory(formation=FormationFactory(intitule="Plomberie sanitaire", objectifs="Réseaux d'eau."))
    services.search_terms_refresh()
    assert titles(run(keywords="plomb")) == ["Plomberie sanitaire"]
    nancy = commune("nancy")
    SessionFactory(formation=FormationFactory(intitule="Plombier chauffagiste", objectifs="Installer une chaudière."), commune=nancy)
    found = run(keywords="plomb", sort="prix")
    assert sorted(titles(found)) == ["Plomberie sanitaire", "Plombier chauffagiste"] and found.total == 2
    assert len(search_module.tsquery_terms("plomb").forms["plomb"]) == 2  # the new word is in the lexicon
    assert "Plombier chauffagiste" in titles(run(keywords="plomb", commune=nancy, radius_km=10))  # the words around a place too


def test_only_stop_words_find_nothing(english):
    result = run(keywords="de la pour")
    assert result.total == 0 and result.hits == []


def test_metz_finds_metz_not_marseille(english):
    result = run(keywords="anglais", commune=resolve_place("Metz"), radius_km=30)
    assert titles(result) == [english.intitule]
    assert result.hits[0].distance_km == pytest.approx(0, abs=0.01)


def test_radius_is_great_circle_distance():
    metz = commune("metz")
    near = SessionFactory(commune=commune("montigny")).formation  # 3.3 km
    edge = SessionFactory(commune=commune("thionville")).formation  # 30.2 km
    far = SessionFactory(commune=commune("nancy")).formation  # 46.5 km
    at_10 = run(commune=metz, radius_km=10, include_remote=False)
    at_30 = run(commune=metz, radius_km=30, include_remote=False)
    at_50 = run(commune=metz, radius_km=50, include_remote=False)
    assert titles(at_10) == [near.intitule]
    assert titles(at_30) == [near.intitule]
    assert titles(at_50) == [near.intitule, edge.intitule, far.intitule]  # nearest first
    assert at_50.hits[1].distance_km == pytest.approx(30.18, abs=0.05)


def test_remote_trainings_appear_whatever_the_place():
    local = SessionFactory(commune=commune("metz")).formation
    remote = remote_formation(intitule="Anglais en ligne")
    with_remote = run(commune=commune("marseille"), radius_km=10)
    assert titles(with_remote) == [remote.intitule]
    assert with_remote.hits[0].distance_km is None
    without = run(commune=commune("metz"), radius_km=10, include_remote=False)
    assert titles(without) == [local.intitule]


def test_one_card_per_formation_with_its_nearest_session():
    formation = FormationFactory()
    SessionFactory(formation=formation, commune=commune("nancy"), price_cents=50000)
    nearest = SessionFactory(formation=formation, commune=commune("montigny"), price_cents=90000)
    result = run(commune=commune("metz"), radius_km=100, include_remote=False)
    assert result.total == 1
    assert result.hits[0].session == nearest


def test_without_place_the_cheapest_session_is_shown():
    formation = FormationFactory(intitule="Comptabilité générale")
    SessionFactory(formation=formation, price_cents=90000)
    cheapest = SessionFactory(formation=formation, price_cents=50000, commune=commune("nancy"))
    services.search_terms_refresh()
    assert run(keywords="comptabilite").hits[0].session == cheapest


def test_closed_ended_and_unpublished_trainings_are_not_found():
    today = timezone.localdate()
    open_one = SessionFactory().formation
    SessionFactory(active=False)
    SessionFactory(start_date=today - datetime.timedelta(days=20), end_date=today - datetime.timedelta(days=1))
    unpublished = SessionFactory().formation
    unpublished.active = False
    unpublished.save()
    result = run(commune=commune("metz"), radius_km=10)
    assert titles(result) == [open_one.intitule]


def test_closing_the_last_session_removes_the_formation_from_results():
    session = SessionFactory()
    assert run(commune=commune("metz")).total == 1
    session.active = False
    session.save()
    assert FormationIndex.objects.get(formation=session.formation).open_until is None
    assert run(commune=commune("metz")).total == 0


def test_filters_price_duration_certification_dates():
    today = timezone.localdate()
    cheap_short = FormationFactory(intitule="Excel court", duree_heures=14, certification=CertificationFactory(type="RS", code="5252"))
    SessionFactory(formation=cheap_short, price_cents=40000, start_date=today + datetime.timedelta(days=20))
    long_rncp = FormationFactory(intitule="Excel long", duree_heures=400, certification=CertificationFactory(type="RNCP", code="37674"))
    SessionFactory(formation=long_rncp, price_cents=500000, start_date=today + datetime.timedelta(days=90))
    permanent = FormationFactory(intitule="Excel permanent", duree_heures=50, certification=None)
    SessionFactory(formation=permanent, price_cents=150000, start_date=None, end_date=None, permanent_entry=True)
    services.search_terms_refresh()

    assert set(titles(run(keywords="excel", max_price_cents=150000))) == {"Excel court", "Excel permanent"}
    assert titles(run(keywords="excel", duration="court")) == ["Excel court"]
    assert titles(run(keywords="excel", duration="long")) == ["Excel long"]
    assert titles(run(keywords="excel", certification_type=Certification.Type.RNCP)) == ["Excel long"]
    after = run(keywords="excel", start_after=today + datetime.timedelta(days=60))
    assert set(titles(after)) == {"Excel long", "Excel permanent"}  # permanent entry fits any date
    before = run(keywords="excel", start_before=today + datetime.timedelta(days=30))
    assert set(titles(before)) == {"Excel court", "Excel permanent"}


def test_date_and_price_filters_pick_the_cheapest_passing_session():
    """With price or date filters, each formation shows its cheapest session that passes:
    its cheapest open session when that one does (kept on its index row), another one
    otherwise; the index row follows its sessions."""
    today = timezone.localdate()
    later = today + datetime.timedelta(days=60)
    early_cheap = FormationFactory(intitule="Soudure à l'arc")
    too_early = SessionFactory(formation=early_cheap, price_cents=100000, start_date=today + datetime.timedelta(days=10))
    in_time = SessionFactory(formation=early_cheap, price_cents=200000, start_date=later + datetime.timedelta(days=5))
    permanent = FormationFactory(intitule="Soudure permanente")
    always = SessionFactory(formation=permanent, price_cents=150000, start_date=None, end_date=None, permanent_entry=True)
    SessionFactory(formation=permanent, price_cents=90000, start_date=later + datetime.timedelta(days=1), end_date=later + datetime.timedelta(days=9))
    none_fits = FormationFactory(intitule="Soudure au laser")
    SessionFactory(formation=none_fits, price_cents=50000, start_date=today + datetime.timedelta(days=3))
    services.search_terms_refresh()
    index = FormationIndex.objects.get(formation=early_cheap)
    assert (index.best_session_id, index.best_start_date) == (too_early.pk, too_early.start_date)
    assert FormationIndex.objects.get(formation=permanent).best_start_date == later + datetime.timedelta(days=1)

    after = run(keywords="soudure", start_after=later, sort="prix")
    assert [(hit.formation.pk, hit.session.pk) for hit in after.hits] == [
        (permanent.pk, permanent.sessions.get(price_cents=90000).pk),
        (early_cheap.pk, in_time.pk),
    ]
    assert after.total == 2
    cheap = run(keywords="soudure", start_after=later, max_price_cents=150000, sort="prix")
    assert [hit.session.pk for hit in cheap.hits] == [permanent.sessions.get(price_cents=90000).pk]
    before = run(keywords="soudure", start_before=today + datetime.timedelta(days=20), sort="prix")
    assert [hit.session.pk for hit in before.hits] == [none_fits.sessions.get().pk, too_early.pk, always.pk]

    # The early session moves after the date: the index row and the search follow at once.
    too_early.start_date, too_early.end_date = later + datetime.timedelta(days=2), later + datetime.timedelta(days=4)
    too_early.save()
    assert FormationIndex.objects.get(formation=early_cheap).best_start_date == too_early.start_date
    assert [hit.session.pk for hit in run(keywords="soudure", start_after=later, sort="prix").hits] == [
        permanent.sessions.get(price_cents=90000).pk,
        too_early.pk,
    ]


def test_remote_formations_pick_their_cheapest_passing_remote_session():
    """« À distance » beside a place, with a date filter: a remote formation shows its cheapest
    remote session that passes, whether or not its cheapest session does."""
    today = timezone.localdate()
    later = today + datetime.timedelta(days=60)
    formation = remote_formation(intitule="Soudure en ligne")
    soon = formation.sessions.get()
    in_time = SessionFactory(formation=formation, commune=None, address="", price_cents=soon.price_cents + 10000, start_date=later)
    services.search_terms_refresh()
    assert FormationIndex.objects.get(formation=formation).best_session_id == soon.pk
    metz = commune("metz")
    assert [hit.session.pk for hit in run(keywords="soudure", commune=metz).hits] == [soon.pk]
    assert [hit.session.pk for hit in run(keywords="soudure", commune=metz, start_after=later).hits] == [in_time.pk]
    assert [hit.session.pk for hit in run(keywords="soudure", commune=metz, start_before=later - datetime.timedelta(days=1)).hits] == [soon.pk]
    assert run(keywords="soudure", commune=metz, start_after=later, max_price_cents=soon.price_cents).hits == []


def test_frequent_words_are_counted_up_to_the_cap(client, monkeypatch):
    """Without a place, a word matching more formations than CAPPED_TOTAL answers « plus de
    … » with the same first pages as the exact count, and no page past the cap."""
    for index in range(7):
        SessionFactory(formation=FormationFactory(intitule=f"Plomberie niveau {index}"), price_cents=10000 * (7 - index))
    services.search_terms_refresh()
    exact = run(keywords="plomberie", sort="prix")
    assert (exact.total, exact.total_capped) == (7, False)
    for filters in ({}, {"max_price_cents": 60000}):
        monkeypatch.setattr(search_module, "CAPPED_TOTAL", 4)
        first = run(keywords="plomberie", sort="prix", per_page=2, **filters)
        assert first.total_capped and first.total == 4 and first.num_pages == 2
        expected = [title for title in titles(exact) if filters == {} or title != "Plomberie niveau 0"]
        assert titles(first) == expected[:2]
        last = run(keywords="plomberie", sort="prix", per_page=2, page=9, **filters)
        assert last.query.page == 2 and titles(last) == expected[2:4]
        monkeypatch.setattr(search_module, "CAPPED_TOTAL", 1000)
        assert run(keywords="plomberie", sort="prix", **filters).total == len(expected)
    monkeypatch.setattr(search_module, "CAPPED_TOTAL", 4)
    assert "Plus de 4 formations trouvées" in text(client.get(URL, {"quoi": "plomberie"}))


def test_sorts():
    metz = commune("metz")
    title_match = FormationFactory(intitule="Gestion de la paie", objectifs="Bulletins.")
    SessionFactory(formation=title_match, commune=commune("nancy"), price_cents=300000)
    body_match = FormationFactory(intitule="Assistant RH", objectifs="Établir la paie des salariés.")
    SessionFactory(formation=body_match, commune=metz, price_cents=100000)
    services.search_terms_refresh()
    by_relevance = run(keywords="paie", commune=metz, radius_km=100)
    assert titles(by_relevance) == ["Gestion de la paie", "Assistant RH"]  # word in the title first
    assert titles(run(keywords="paie", commune=metz, radius_km=100, sort="distance")) == ["Assistant RH", "Gestion de la paie"]
    assert titles(run(keywords="paie", sort="prix")) == ["Assistant RH", "Gestion de la paie"]


def test_pagination():
    for index in range(25):
        SessionFactory(formation=FormationFactory(intitule=f"Soudure niveau {index:02d}"), price_cents=10000 + index)
    services.search_terms_refresh()
    first = run(keywords="soudure", sort="prix")
    second = run(keywords="soudure", sort="prix", page=2)
    assert first.total == second.total == 25 and first.num_pages == 2
    assert len(first.hits) == 20 and len(second.hits) == 5
    assert titles(first)[0] == "Soudure niveau 00" and titles(second)[-1] == "Soudure niveau 24"
    assert not set(titles(first)) & set(titles(second))


def test_place_resolution():
    metz = commune("metz")
    commune("saint-etienne")
    assert resolve_place("Metz") == metz
    assert resolve_place("metz") == metz
    assert resolve_place("57070") == metz
    assert resolve_place("Metz (57000)") == metz
    assert resolve_place("Mets") == metz  # typo, by trigram
    assert resolve_place("saint etienne").code_insee == "42218"
    assert resolve_place("Zzzzzzz") is None


def test_many_results_are_capped_and_pages_stay_exact(monkeypatch):
    """A place search matching very many formations answers « plus de … » and still lists
    the nearest (or cheapest) first, as the exact search would."""
    places = [commune(key) for key in ("metz", "montigny", "thionville", "nancy")]
    for index in range(24):
        SessionFactory(commune=places[index % 4], price_cents=10000 + 1000 * index)
    exact_by_distance = run(commune=places[0], radius_km=50, include_remote=False)
    exact_by_price = run(commune=places[0], radius_km=50, include_remote=False, sort="prix")
    monkeypatch.setattr(search_module, "PROBE_SESSIONS", 12)
    monkeypatch.setattr(search_module, "CAPPED_TOTAL", 10)
    capped = run(commune=places[0], radius_km=50, include_remote=False, per_page=4)
    assert capped.total_capped and capped.total == 10
    assert [h.distance_km for h in capped.hits] == [h.distance_km for h in exact_by_distance.hits[:4]]
    cheapest = run(commune=places[0], radius_km=50, include_remote=False, sort="prix", per_page=4)
    assert titles(cheapest) == titles(exact_by_price)[:4]


@pytest.fixture
def plumbing_around_metz():
    """Five plumbing courses around Metz (two with the word in their title) and three remote
    ones (one with it in its title, one the cheapest of all)."""
    places = {key: commune(key) for key in ("metz", "montigny", "thionville", "nancy")}
    for title, place, price in [
        ("Plomberie sanitaire", "metz", 90000),
        ("Plomberie et chauffage", "thionville", 40000),
        ("Installations sanitaires", "montigny", 70000),
        ("Chauffagiste", "metz", 50000),
        ("Génie climatique", "nancy", 30000),
    ]:
        SessionFactory(formation=FormationFactory(intitule=title, objectifs="Les bases de la plomberie."), commune=places[place], price_cents=price)
    for title, price in [("Plomberie à distance", 80000), ("Sanitaires en ligne", 20000), ("Chauffage en ligne", 95000)]:
        formation = remote_formation(intitule=title, objectifs="Les bases de la plomberie.")
        formation.sessions.update(price_cents=price)
    services.search_terms_refresh()
    return places["metz"]


@pytest.mark.parametrize("sort", ["pertinence", "distance", "prix", "note"])
@pytest.mark.parametrize("include_remote", [True, False])
def test_keywords_and_a_place_give_every_page_of_the_whole_list(plumbing_around_metz, sort, include_remote):
    """Pages of two equal the slices of the whole list, in every order: the remote formations
    are read only when they can be on the page (by relevance, past the local ones of the
    best score, then only those with a word in their title), and are there when they can."""
    place = {"keywords": "plomberie", "commune": plumbing_around_metz, "radius_km": 50, "sort": sort, "include_remote": include_remote}
    whole = run(per_page=100, **place)
    assert whole.total == (8 if include_remote else 5) and not whole.total_capped
    listed = [hit.session.pk for hit in whole.hits]
    assert len(listed) == whole.total
    for page in range(1, (whole.total + 1) // 2 + 1):
        result = run(per_page=2, page=page, **place)
        assert result.total == whole.total
        assert [hit.session.pk for hit in result.hits] == listed[2 * (page - 1) : 2 * page], page
    if sort == "pertinence":  # the word in the title first, the nearest first, then the remote one
        expected = (
            ["Plomberie sanitaire", "Plomberie et chauffage", "Plomberie à distance"]
            if include_remote
            else ["Plomberie sanitaire", "Plomberie et chauffage"]
        )
        assert titles(whole)[: len(expected)] == expected


def test_keywords_and_a_place_are_counted_up_to_the_cap(plumbing_around_metz, monkeypatch, client):
    """Like every other search, « plus de … » past CAPPED_TOTAL, with the exact first pages;
    the remote formations are counted only while the local ones leave the cap unreached."""
    place = {"keywords": "plomberie", "commune": plumbing_around_metz, "radius_km": 50}
    exact = [hit.session.pk for hit in run(per_page=100, **place).hits]
    for cap in (6, 4):  # 5 local formations: under the cap, then over it
        monkeypatch.setattr(search_module, "CAPPED_TOTAL", cap)
        first = run(per_page=2, **place)
        assert (first.total, first.total_capped, first.num_pages) == (cap, True, cap // 2)
        assert [hit.session.pk for hit in first.hits] == exact[:2]
        last = run(per_page=2, page=9, **place)
        assert last.query.page == cap // 2 and [hit.session.pk for hit in last.hits] == exact[cap - 2 : cap]
    monkeypatch.setattr(search_module, "CAPPED_TOTAL", 7)
    assert (run(**place).total, run(**place).total_capped) == (7, True)  # 5 local, the remote counted up to 2 + 1
    monkeypatch.setattr(search_module, "CAPPED_TOTAL", 8)
    assert (run(**place).total, run(**place).total_capped) == (8, False)
    monkeypatch.setattr(search_module, "CAPPED_TOTAL", 4)
    page = " ".join(text(client.get(URL, {"quoi": "plomberie", "ou": "Metz (57000)", "rayon": 50})).split())
    assert "Plus de 4 formations trouvées à moins de 50 km de Metz (57000)" in page


# --- The page -------------------------------------------------------------------------------


def test_search_page_without_javascript(client, english):
    response = client.get(URL, {"quoi": "anglais", "ou": "Metz", "rayon": "30"})
    html = text(response)
    assert response.status_code == 200
    assert "1 formation trouvée" in html and "à moins de 30 km de Metz (57000)" in html
    card = html[html.index(english.intitule) :]
    assert "par " + english.organisme.raison_sociale in card
    assert "Metz (57000)" in card and "10 h" in card and "870,00" in card
    assert "Voir le détail" in card


def test_search_page_labels(client, db):
    html = text(client.get(URL))
    for label in ("Quelle formation ?", "Où ?", "Rayon autour de la commune", "Inclure les formations à distance", "Prix maximum (€)", "Trier par"):
        assert label in html


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"ou": "Zzzzzz"}, "ou", "Nous ne trouvons pas cette commune"),
        ({"quoi": "anglais", "prix_max": "-5"}, "prix_max", "supérieure ou égale à 0"),
        ({"quoi": "anglais", "prix_max": "beaucoup"}, "prix_max", "Saisissez un nombre"),
        ({"quoi": "anglais", "debut_apres": "2030-01-10", "debut_avant": "2030-01-01"}, "debut_avant", "doit suivre"),
        ({"quoi": "anglais", "tri": "distance"}, "tri", "Indiquez une commune"),
    ],
)
def test_bad_search_input_is_told_next_to_the_field(client, db, params, field, message):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert any(message in str(e) for e in response.context["form"].errors[field])


def test_search_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    metz = commune("metz")

    def make(count):
        for _ in range(count):
            SessionFactory(formation=FormationFactory(intitule="Plomberie sanitaire"), commune=metz)
        services.search_terms_refresh()

    make(1)
    with django_assert_max_num_queries(8) as one:
        assert client.get(URL, {"quoi": "plomberie", "ou": "Metz"}).status_code == 200
    make(19)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(URL, {"quoi": "plomberie", "ou": "Metz"})
    assert "20 formations trouvées" in text(response)


def test_commune_suggestions(client, db):
    commune("metz")
    commune("montigny")
    by_name = client.get(reverse("catalogue:commune-suggestions"), {"q": "met"}).json()["results"]
    assert by_name[0] == {"label": "Metz (57000)", "code": "57463"}
    assert "Montigny-lès-Metz (57950)" in [c["label"] for c in by_name]
    by_code = client.get(reverse("catalogue:commune-suggestions"), {"q": "5795"}).json()["results"]
    assert [c["label"] for c in by_code] == ["Montigny-lès-Metz (57950)"]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"sort": "distance"},
        {"sort": "prix"},
        {"max_price_cents": 60000},
        {"start_after": datetime.date.today() + datetime.timedelta(days=40)},
        {"start_before": datetime.date.today() + datetime.timedelta(days=40), "sort": "prix"},
        {"include_remote": False},
        {"per_page": 2, "page": 2},
    ],
)
def test_every_keyword_and_place_strategy_gives_the_same_page(monkeypatch, filters):
    """From the sessions around the place, from the matching formations' own rows (their
    sessions' positions side by side) or from their sessions: the choice, made on
    statistics, changes the cost, never the results."""
    metz, montigny, nancy, marseille = commune("metz"), commune("montigny"), commune("nancy"), commune("marseille")
    today = timezone.localdate()
    for index, (place, price) in enumerate([(metz, 90000), (montigny, 50000), (nancy, 40000), (marseille, 30000), (metz, 70000)]):
        formation = FormationFactory(intitule=f"Plomberie sanitaire niveau {index}")
        # Starts 30 or 60 days on, one session in three an « entrée permanente ».
        SessionFactory(formation=formation, commune=place, price_cents=price, start_date=today + datetime.timedelta(days=30 * (1 + index % 2)))
        if index % 3:
            SessionFactory(formation=formation, commune=nancy, price_cents=price + 5000)
        else:
            SessionFactory(formation=formation, commune=nancy, price_cents=price + 5000, start_date=None, end_date=None, permanent_entry=True)
    remote_formation(intitule="Plomberie à distance")
    closed = FormationFactory(intitule="Plomberie fermée")
    SessionFactory(formation=closed, commune=metz, active=False)
    services.search_terms_refresh()

    pages = {}
    for strategy in ("near_first", "arrays", "formation_first"):
        monkeypatch.setattr(search_module, "_strategy", lambda plan, terms, strategy=strategy: strategy)
        result = run(keywords="plomberie", commune=metz, radius_km=50, **filters)
        pages[strategy] = (result.total, [(hit.session.pk, hit.distance_km and round(hit.distance_km, 3)) for hit in result.hits])
    assert pages["near_first"][0] > 0
    assert all(page == pages["near_first"] for page in pages.values()), pages


@pytest.mark.parametrize("radius", search_module.RADIUS_CHOICES)
def test_the_cells_of_a_place_hold_every_session_within_its_radius(radius):
    """The index's cells of a session (computed by PostgreSQL) always meet the cells the search
    asks for around a place, wherever the session lies within the radius: mainland, Corsica,
    overseas, on a grid line or at the box's edge."""
    import random

    from django.db import connection

    from cpf_portal.geo import bounding_box

    rng = random.Random(radius)
    places = [(49.1193, 6.1757), (45.7667, 4.88), (41.9192, 8.7386), (-20.8823, 55.4504), (4.9372, -52.326), (16.2411, -61.533), (48.8, 2.3)]
    points = []
    for lat, lon in places:
        lon_min, lat_min, lon_max, lat_max = bounding_box(lat, lon, radius)
        asked = set(search_module.coarse_cells(lat_min, lat_max, lon_min, lon_max))
        corners = [(lat_min, lon_min), (lat_max, lon_max), (lat_min, lon_max), (lat_max, lon_min), (round(lat, 1), round(lon, 1))]
        inside = corners + [(rng.uniform(lat_min, lat_max), rng.uniform(lon_min, lon_max)) for _ in range(40)]
        points += [(asked, point) for point in inside]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT catalogue_place_cells(ARRAY[p.lat], ARRAY[p.lon]) FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(lat, lon, n) ORDER BY n",
            [[point[0] for _, point in points], [point[1] for _, point in points]],
        )
        cells = [row[0] for row in cursor.fetchall()]
    missed = [point for (asked, point), own in zip(points, cells, strict=True) if not asked & set(own)]
    assert len(cells) == len(places) * 45 and not missed, missed
