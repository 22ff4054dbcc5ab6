from django.contrib import admin

from .models import Email, Notification


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["to", "subject"]
    readonly_fields = [f.name for f in Email._meta.fields if f.name != "sealed"]
    exclude = ["sealed"]  # a secret (code, personal link) is never shown to operators

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "created_at", "read_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "title"]
    readonly_fields = ["user", "title", "body", "url", "dedup_key", "created_at"]
