"""The errors a person may see. Services raise them with a French message; nothing was
written when one is raised (the transaction rolls back). One middleware
(``cpf_portal.middleware.UserFacingErrorMiddleware``) catches them all and answers with the
message: 409 when the object changed under the person (wrong state, stale page, already
paid), 400 when their request is refused (a rule, a card, a missing reason)."""


class UserFacingError(Exception):
    """A refusal whose message is shown to the person as is."""

    status_code = 400

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else "Cette action n'a pas pu aboutir."


class ConflictError(UserFacingError):
    """The object is no longer in the state the page showed: reload and look again."""

    status_code = 409
