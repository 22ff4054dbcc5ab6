"""Dossier pages: the titulaire's (``titulaire``) and the organisme's (``organisme``).

Views parse input, call one service, redirect with a French message. Each transition has
its own POST endpoint (``.../<numero>/actions/<name>/``); the buttons a page shows are the
transitions open to its reader in the dossier's state (``workflow.available_transitions``).
Refusals raised by the services are answered in one place
(``cpf_portal.middleware.UserFacingErrorMiddleware``), which shows the page again with the
message. Objects come only from scoped querysets: someone else's dossier answers 404."""
