from django.apps import AppConfig


class FinancingConfig(AppConfig):
    name = "financing"
    verbose_name = "Financement"

    def ready(self):
        from django.conf import settings
        from django.db.models.signals import post_migrate, post_save

        from . import dsn
        from .models import CpfAccount
        from .rules_seed import restore_rules

        # The rules in force come back into a database emptied by ``flush`` (never over a table
        # that holds rows).
        post_migrate.connect(restore_rules, sender=self, dispatch_uid="financing.rules.restore")

        # The simulated DSN credits an account when it opens (CPF_SIMULATED_DSN, the demo).
        post_save.connect(dsn.on_account_opened, sender=CpfAccount, dispatch_uid="financing.dsn.account")
        post_save.connect(dsn.on_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="financing.dsn.user")
