"""Domain errors: each carries a sentence a person can act on."""


class DomainError(Exception):
    """Base class: the message is shown to the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """The record asked for does not exist (or is not visible to this user)."""


class Forbidden(DomainError):
    """The signed-in user's roles do not allow this."""


class Conflict(DomainError):
    """Someone else changed the record, or it would clash with another one."""


class ValidationError(DomainError):
    """Bad input: the message names the field and the fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AuthenticationFailed(DomainError):
    """Sign-in refused; deliberately vague about which part was wrong."""


class AccountLocked(DomainError):
    """Too many failed sign-ins: the account waits out a cooldown."""


class DatabaseUnavailable(DomainError):
    """The database could not be reached; nothing was changed."""
