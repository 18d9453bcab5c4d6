"""Route guards: who may reach a handler at all (objects are checked in services)."""

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler


class LoginRequired(Exception):
    """No signed-in user: send the person to log in (or tell them they timed out)."""


class WrongKindOfUser(Exception):
    """A citizen on a staff page or the other way round."""


def requires_login(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.scope["state"].get("viewer") is None:
        raise LoginRequired()


def requires_person(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    requires_login(connection, handler)
    if connection.scope["state"]["viewer"].is_staff:
        raise WrongKindOfUser()


def requires_staff(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    requires_login(connection, handler)
    if not connection.scope["state"]["viewer"].is_staff:
        raise WrongKindOfUser()
