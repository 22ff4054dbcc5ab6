"""Who may do what in « Espace organisme »: the one table of rights per team role, and the
decorator every organisme page, action and export goes through.

- anonymous → login page (with ?next=);
- an account that is not organisme staff, or no longer in its organisme's team → 403;
- a member whose roles lack the right → 403;
- another organisme's object → 404 (views fetch through querysets scoped to
  ``request.user.organisme``, the organisme the person is working in).
"""

from enum import StrEnum
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from accounts.models import Role

from .models import Membership, TeamRole


class Right(StrEnum):
    CATALOGUE_VOIR = "catalogue_voir"
    CATALOGUE_GERER = "catalogue_gerer"
    DOSSIERS_VOIR = "dossiers_voir"
    DOSSIERS_TRAITER = "dossiers_traiter"
    FACTURATION_VOIR = "facturation_voir"
    FACTURATION_GERER = "facturation_gerer"
    EQUIPE_VOIR = "equipe_voir"
    EQUIPE_GERER = "equipe_gerer"


_EVERY_MEMBER = {Right.EQUIPE_VOIR}
_READ_ALL = {Right.CATALOGUE_VOIR, Right.DOSSIERS_VOIR, Right.FACTURATION_VOIR}

GRANTS: dict[str, frozenset[Right]] = {
    role: frozenset(rights | _EVERY_MEMBER)
    for role, rights in {
        TeamRole.RESPONSABLE: {Right.EQUIPE_GERER},
        TeamRole.GESTIONNAIRE: _READ_ALL | {Right.CATALOGUE_GERER, Right.DOSSIERS_TRAITER, Right.FACTURATION_GERER},
        TeamRole.CATALOGUE: {Right.CATALOGUE_VOIR, Right.CATALOGUE_GERER},
        TeamRole.ADMINISTRATIF: {Right.CATALOGUE_VOIR, Right.DOSSIERS_VOIR, Right.DOSSIERS_TRAITER},
        # Billing starts from the dossiers: the financier reads them (and the offer).
        TeamRole.FINANCIER: _READ_ALL | {Right.FACTURATION_GERER},
        TeamRole.LECTEUR: _READ_ALL,
    }.items()
}


# What a member does in « Espace organisme », by right (the stronger of two rights on one
# thing wins): the home page's sentence is built from these.
_DOING = [
    (Right.CATALOGUE_GERER, Right.CATALOGUE_VOIR, "gérez le catalogue de votre organisme", "consultez le catalogue de votre organisme"),
    (Right.DOSSIERS_TRAITER, Right.DOSSIERS_VOIR, "répondez aux dossiers de formation", "suivez les dossiers de formation"),
    (Right.FACTURATION_GERER, Right.FACTURATION_VOIR, "facturez les formations réalisées", "consultez la facturation"),
    (Right.EQUIPE_GERER, None, "gérez votre équipe et ses accès", ""),
]


def what_you_do(rights: frozenset[Right]) -> str:
    """« Depuis cet espace, vous … » for a member with ``rights``: only what they may do."""
    parts = [manage if strong in rights else read for strong, weak, manage, read in _DOING if strong in rights or (weak and weak in rights)]
    if not parts:
        return "Depuis cet espace, vous consultez votre équipe."
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} et {parts[-1]}"
    return f"Depuis cet espace, vous {listed}."


def rights_of(roles) -> frozenset[Right]:
    return frozenset().union(*(GRANTS[role] for role in roles)) if roles else frozenset()


class Can:
    """``can.dossiers_traiter`` in templates: what the current member may do."""

    def __init__(self, rights: frozenset[Right]):
        self.rights = rights

    def __getattr__(self, name):
        try:
            return Right(name) in self.rights
        except ValueError:
            raise AttributeError(name) from None

    def __contains__(self, right) -> bool:
        return Right(right) in self.rights


def current_membership(request) -> Membership | None:
    """The membership of the person in the organisme they work in (cached on the request)."""
    if not hasattr(request, "_membership"):
        user = request.user
        membership = None
        if user.is_authenticated and user.role == Role.ORGANISME and user.organisme_id:
            membership = Membership.objects.select_related("organisme").filter(user=user, organisme_id=user.organisme_id).first()
        request._membership = membership
    return request._membership


def can(request) -> Can:
    membership = current_membership(request)
    return Can(rights_of(membership.roles) if membership else frozenset())


def organisme_required(right: Right, *, post: Right | None = None):
    """The view needs a member of the current organisme holding ``right`` (and ``post`` to
    submit, for a page that shows to readers what others may change)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role != Role.ORGANISME:
                raise PermissionDenied("Cette page n'est pas accessible avec votre compte.")
            if current_membership(request) is None:
                raise PermissionDenied("Vous ne faites plus partie de l'équipe de cet organisme.")
            needed = post if post is not None and request.method == "POST" else right
            if needed not in can(request):
                raise PermissionDenied("Votre rôle dans l'équipe de l'organisme ne permet pas cette action.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def roles_with(right: Right) -> list[str]:
    return [role for role, rights in GRANTS.items() if right in rights]


def members_with(right: Right, organisme_ids) -> dict[int, list]:
    """The active people of each organisme's team holding ``right`` (who is told of what
    concerns it), by organisme id."""
    memberships = (
        Membership.objects.filter(organisme_id__in=organisme_ids, roles__overlap=roles_with(right), user__is_active=True)
        .select_related("user")
        .order_by("organisme_id", "user_id")
    )
    people: dict[int, list] = {}
    for membership in memberships:
        people.setdefault(membership.organisme_id, []).append(membership.user)
    return people


def members_with_sql(right: Right, organismes_sql: str) -> str:
    """The same people in SQL, for set-based notices: rows (organisme_id, ids) for the
    organismes ``organismes_sql`` selects, read once per statement (roles are constants)."""
    roles = ", ".join(f"'{role}'" for role in roles_with(right))
    return (
        "SELECT m.organisme_id, array_agg(m.user_id ORDER BY m.user_id) AS ids FROM equipes_membership m "
        f"JOIN accounts_user u ON u.id = m.user_id WHERE m.organisme_id IN ({organismes_sql}) "
        f"AND m.roles && ARRAY[{roles}]::varchar(20)[] AND u.is_active GROUP BY m.organisme_id"
    )
