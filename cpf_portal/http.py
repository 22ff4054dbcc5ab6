import csv
import io
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


def posted(request):
    """The submitted data for a form: ``request.POST`` on POST (even when empty, so an empty
    submission is validated and told, never mistaken for a first display), else None."""
    return request.POST if request.method == "POST" else None


def render_form(request, template: str, context: dict, *forms):
    """Render a page holding forms: HTTP 400 when a submitted form has errors, else 200."""
    invalid = any(form is not None and form.is_bound and form.errors for form in forms)
    return render(request, template, context, status=400 if invalid else 200)


class FormInvalid400Mixin:
    """For Django's generic form views: a re-displayed invalid form answers 400."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


def safe_local_url(request, candidate: str) -> str:
    """``candidate`` when it is a path on this site (« /mes-dossiers/?page=2 »), else "".

    Only an absolute path is followed: a bare word (« ab », « -1 », « 2020-02-30 ») is not a
    URL, « //host » and « /\\host » leave the site, and a full URL is reduced to our own
    host only."""
    candidate = (candidate or "").strip()
    if not candidate:
        return ""
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        if not url_has_allowed_host_and_scheme(candidate, {request.get_host()}, require_https=request.is_secure()):
            return ""
        candidate = parts.path + (f"?{parts.query}" if parts.query else "")
    if not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return ""
    return candidate if url_has_allowed_host_and_scheme(candidate, {request.get_host()}) else ""


def redirect_back(request, candidate: str, fallback: str) -> HttpResponseRedirect:
    """Redirect to ``candidate`` if it is a safe local path, else to ``fallback`` (a URL)."""
    return HttpResponseRedirect(safe_local_url(request, candidate) or fallback)


def private_file(field_file, *, content_type: str, filename: str, as_attachment: bool = False) -> FileResponse:
    """A private file (an attestation, an invoice, a proof) streamed from its storage (local
    folder or private bucket) after the caller's access check, never cached, its type the one
    read from its content: no storage URL ever reaches the browser. 404 when it is gone."""
    if not field_file:
        raise Http404
    try:
        handle = field_file.storage.open(field_file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=as_attachment, content_type=content_type, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class _Echo:
    def write(self, value):
        return value


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): a
# titulaire named « =HYPERLINK(…) » must reach the organisme's spreadsheet as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


def neutralised(value):
    """``value`` as a spreadsheet shows it and never runs: a text that a spreadsheet would
    take for a formula gets a leading apostrophe (OWASP); numbers, even negative, stay."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def csv_download(filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    """A CSV export streamed as it is read: « ; » separated, UTF-8 with a BOM (Excel), no
    cell a spreadsheet would run."""
    writer = csv.writer(_Echo(), delimiter=";")

    def lines():
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([neutralised(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def list_links(params) -> dict[str, str]:
    """A filtered list's query string for its links: ``query_prefix`` for the pagination (which
    adds « page=N ») and ``export_query`` for its exports."""
    query = params.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return {"query_prefix": f"{encoded}&" if encoded else "", "export_query": encoded}


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_download(filename: str, header: list[str], rows: Iterable[list]) -> HttpResponse:
    """The same export as an Excel workbook (openpyxl, written row by row): every text is a
    text cell, never a formula, whatever it starts with. (openpyxl, which brings numpy, is
    imported on the first export, not by every web process at start.)"""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Export")

    def cells(values):
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would store « =… » as a formula
            yield cell

    sheet.append(list(cells(header)))
    for row in rows:
        sheet.append(list(cells(row)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_download(fmt: str, stem: str, header: list[str], rows: Iterable[list]) -> HttpResponse:
    """An export as ``stem``.csv or ``stem``.xlsx, by the format the URL names."""
    if fmt == "xlsx":
        return xlsx_download(f"{stem}.xlsx", header, rows)
    return csv_download(f"{stem}.csv", header, rows)
