"""Registering the staff systems that call the FHIR API (portal.fhir.clients), and the
command that does it (`python -m portal fhir-client ...`):

    python -m portal fhir-client add --client-id lifecare-kalmar --name "Lifecare SP"
        --owner "Region Kalmar län" --unit SE2321000016-1A2B [--unit ...] --jwks FILE
        --scopes "system/CarePlan.write system/Consent.read" [--publish-as draft]
    python -m portal fhir-client list
    python -m portal fhir-client deactivate --client-id lifecare-kalmar

Units are named by their external identifier (`Unit.external_id`: HSA-id for a Swedish
unit, the SOTE organisation register OID for a Finnish one). The JWKS file holds the
system's PUBLIC keys (portal.fhir.assertion.public_jwks refuses private parts).
Deactivating stops the client's tokens at their next call (portal.fhir.tokens).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.fhir.assertion import JwksRefused, public_jwks
from portal.fhir.clients import PUBLISH_MODES, SCOPES, FhirClient, FhirClientUnit
from portal.people.models import Unit


class RegistrationError(ValueError):
    """What is wrong with a registration, in plain English (shown by the command)."""


async def add_client(db: AsyncSession, *, client_id: str, name: str, owner: str,
                     unit_external_ids: Sequence[str], jwks: str, scopes: Sequence[str],
                     publish_as: str = "version") -> FhirClient:
    """A new active client for the units with `unit_external_ids` (at least one), its
    public `jwks` (JSON text) and `scopes` (each one of portal.fhir.clients.SCOPES).
    Flushes, does not commit. RegistrationError when anything is wrong or the client_id
    is taken."""
    client_id = client_id.strip()
    if not client_id or len(client_id) > 100 or any(c.isspace() for c in client_id):
        raise RegistrationError("The client_id must be 1-100 characters without spaces.")
    if not name.strip() or not owner.strip():
        raise RegistrationError("The client needs a name and an owner.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise RegistrationError(f"Scopes must be among {' '.join(SCOPES)}"
                                + (f" (not {' '.join(unknown)})." if unknown else "."))
    if publish_as not in PUBLISH_MODES:
        raise RegistrationError(f"--publish-as must be one of {', '.join(PUBLISH_MODES)}.")
    wanted = list(dict.fromkeys(unit_external_ids))
    if not wanted:
        raise RegistrationError("The client needs at least one unit.")
    try:
        keys = public_jwks(jwks)
    except JwksRefused as exc:
        raise RegistrationError(str(exc)) from None
    taken = (await db.exec(select(FhirClient.id).where(FhirClient.client_id == client_id))).first()
    if taken:
        raise RegistrationError(f"A client {client_id} is already registered.")
    units = (await db.exec(select(Unit).where(Unit.external_id.in_(wanted)))).all()
    missing = sorted(set(wanted) - {unit.external_id for unit in units})
    if missing:
        raise RegistrationError(f"No unit has the identifier {', '.join(missing)}.")
    client = FhirClient(client_id=client_id, name=name.strip(), owner=owner.strip(), jwks=keys,
                        scopes=" ".join(dict.fromkeys(scopes)), publish_as=publish_as)
    db.add(client)
    await db.flush()
    db.add_all(FhirClientUnit(client_id=client.id, unit_id=unit.id) for unit in units)
    await db.flush()
    return client


async def list_clients(db: AsyncSession) -> list[tuple[FhirClient, list[Unit]]]:
    """Every registered client (active or not) by client_id, with its units."""
    rows = (await db.exec(
        select(FhirClient, Unit)
        .outerjoin(FhirClientUnit, FhirClientUnit.client_id == FhirClient.id)
        .outerjoin(Unit, Unit.id == FhirClientUnit.unit_id)
        .order_by(FhirClient.client_id, Unit.name))).all()
    clients: dict[str, tuple[FhirClient, list[Unit]]] = {}
    for client, unit in rows:
        entry = clients.setdefault(client.id, (client, []))
        if unit is not None:
            entry[1].append(unit)
    return list(clients.values())


async def deactivate_client(db: AsyncSession, client_id: str) -> FhirClient:
    """Mark the client inactive (its tokens stop working at their next call). Flushes.
    RegistrationError when no client has `client_id`."""
    client = (await db.exec(select(FhirClient).where(FhirClient.client_id == client_id))).first()
    if client is None:
        raise RegistrationError(f"No client {client_id} is registered.")
    client.active = False
    db.add(client)
    await db.flush()
    return client


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m portal fhir-client",
                                     description="Staff systems registered for the FHIR API.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="register a staff system")
    add.add_argument("--client-id", required=True)
    add.add_argument("--name", required=True, help='the system, as people read it: "Lifecare SP"')
    add.add_argument("--owner", required=True, help='who runs it: "Region Kalmar län"')
    add.add_argument("--unit", action="append", required=True,
                     help="a unit's HSA-id or SOTE OID (repeat for more units)")
    add.add_argument("--jwks", required=True, help="a file with the system's public JWKS")
    add.add_argument("--scopes", required=True, help=f"space separated: {' '.join(SCOPES)}")
    add.add_argument("--publish-as", default="version", choices=PUBLISH_MODES)
    commands.add_parser("list", help="list the registered systems")
    off = commands.add_parser("deactivate", help="stop a system's access")
    off.add_argument("--client-id", required=True)
    return parser


async def _run(args: argparse.Namespace, database_url: str, jwks: str) -> str:
    from portal.core.db import make_async_engine, make_sessionmaker

    engine = make_async_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            if args.command == "add":
                client = await add_client(db, client_id=args.client_id, name=args.name,
                                          owner=args.owner, unit_external_ids=args.unit,
                                          jwks=jwks, scopes=args.scopes.split(),
                                          publish_as=args.publish_as)
                await db.commit()
                return f"registered {client.client_id} ({client.name}, {client.owner})"
            if args.command == "deactivate":
                client = await deactivate_client(db, args.client_id)
                await db.commit()
                return f"deactivated {client.client_id}"
            lines = []
            for client, units in await list_clients(db):
                state = "active" if client.active else "inactive"
                lines.append(f"{client.client_id}\t{state}\t{client.name}\t{client.owner}\t"
                             f"{client.scopes}\t{client.publish_as}\t"
                             + " ".join(unit.external_id or unit.code for unit in units))
            return "\n".join(lines) or "no clients registered"
    finally:
        await engine.dispose()


def main(argv: Sequence[str], database_url: str) -> int:
    """The `fhir-client` command: 0 done, 1 refused (message on stderr), 2 bad usage."""
    args = _parser().parse_args(list(argv))
    try:
        jwks = ""
        if args.command == "add":
            with open(args.jwks, encoding="utf-8") as file:
                jwks = file.read()
        print(asyncio.run(_run(args, database_url, jwks)))
    except (RegistrationError, OSError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    return 0
