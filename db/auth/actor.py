"""Who is acting: a signed-in user or the operator at the command line, and the role check."""

from db.core.errors import Forbidden
from db.models.auth import Role, User


class Operator:
    """The person at the command line (manage.py): trusted with every role."""

    id: int | None = None
    username = "operator"
    display_name = "Operator (command line)"
    roles = frozenset(Role)

    def has_any(self, roles: set[Role] | frozenset[Role]) -> bool:
        """The operator holds every role."""
        return True


OPERATOR = Operator()
Actor = User | Operator


def require_role(actor: Actor | None, *roles: Role, doing: str) -> Actor:
    """Raise Forbidden unless the actor holds one of `roles`."""
    if actor is None or not actor.has_any(set(roles)):
        needed = " or ".join(r.value for r in roles)
        raise Forbidden(f"You need the {needed} role to {doing}.")
    return actor
