"""Shared Django admin building blocks."""


class ReadOnlyMixin:
    """A record operators read but never add, change or delete from the admin (ledgers,
    logs, issued documents)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
