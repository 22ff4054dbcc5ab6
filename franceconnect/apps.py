from django.apps import AppConfig


class FranceConnectConfig(AppConfig):
    name = "franceconnect"
    verbose_name = "FranceConnect"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from .sessions import end_session_on_logout

        # Ending a FranceConnect login ends its FranceConnect session too.
        user_logged_out.connect(end_session_on_logout, dispatch_uid="franceconnect_end_session")
