"""The production settings, plus a bare Django view for `make bench-web` (bench/urls.py), and
the cache switched off when BENCH_CACHE=off (the search page as computed for every request)."""

import os

from cpf_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
if os.environ.get("BENCH_CACHE") == "off":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
