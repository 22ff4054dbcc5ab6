"""Every write through the API is recorded with the key that made it; with an
``Idempotency-Key`` header, a retried request gets the first answer again (the header
``Idempotent-Replayed: true`` tells it), never firing twice."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction

from . import keys
from .models import ApiWrite

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class ApiWriteMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in WRITES or not request.path.startswith("/api/v1/"):
            return self.get_response(request)
        authorization = request.headers.get("Authorization", "")
        key = keys.authenticate(authorization.removeprefix("Bearer ").strip()) if authorization.startswith("Bearer ") else None
        if key is None:
            return self.get_response(request)  # the API answers 401
        request.api_key = key  # the API's authentication takes it: the key is looked up once
        idempotency_key = request.headers.get("Idempotency-Key", "").strip()[:200]
        digest = hashlib.sha256(request.method.encode() + request.path.encode() + b"\n" + request.body).hexdigest()
        write = ApiWrite(api_key=key, idempotency_key=idempotency_key, method=request.method, path=request.path[:500], request_digest=digest)
        if idempotency_key:
            try:
                with transaction.atomic():
                    write.save()
            except IntegrityError:
                return self._replay(key, idempotency_key, digest)
        response = self.get_response(request)
        if response.status_code == 429 or response.status_code >= 500:
            if write.pk:
                write.delete()  # not an answer: the same key may be tried again
            return response
        write.status_code, write.response_body, write.content_type = response.status_code, response.content, response.get("Content-Type", "")
        write.save()
        return response

    @staticmethod
    def _replay(key, idempotency_key: str, digest: str):
        from django.http import HttpResponse

        from .v1 import TITLES, problem

        first = ApiWrite.objects.get(api_key=key, idempotency_key=idempotency_key)
        if first.request_digest != digest:
            return problem(422, TITLES[422], "Cette clé d'idempotence a déjà servi pour une autre requête.")
        if first.status_code is None:
            return problem(409, TITLES[409], "Une requête avec cette clé d'idempotence est en cours : réessayez dans un instant.")
        response = HttpResponse(bytes(first.response_body), status=first.status_code, content_type=first.content_type)
        response["Idempotent-Replayed"] = "true"
        return response
