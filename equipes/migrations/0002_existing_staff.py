"""Every organisme staff account before teams existed had every right: it becomes its
organisme's Responsable des accès and Gestionnaire."""

from django.db import migrations


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Membership = apps.get_model("equipes", "Membership")
    staff = User.objects.filter(role="organisme", organisme__isnull=False)
    Membership.objects.bulk_create(
        [Membership(user_id=user.pk, organisme_id=user.organisme_id, roles=["responsable", "gestionnaire"]) for user in staff],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("equipes", "0001_initial"), ("accounts", "0003_role_label")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
