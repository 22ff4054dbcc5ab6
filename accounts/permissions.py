"""Role checks in one place. Views use these decorators and scoped querysets, nothing else.

- anonymous → login page (with ?next=)
- logged in with another role → 403
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .models import Role


def _role_required(check):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(user):
                raise PermissionDenied("Cette page n'est pas accessible avec votre compte.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


titulaire_required = _role_required(lambda user: user.role == Role.TITULAIRE)
conseiller_required = _role_required(lambda user: user.role == Role.CONSEILLER)
