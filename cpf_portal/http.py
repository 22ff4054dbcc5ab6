from django.shortcuts import render


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
