"""The current consent state, derived from the event log (pure functions).

Rules:
- For each actor (unit) the latest decision counts.
- A withdrawal by anyone who may decide ends the consent at once.
- When the decision belongs to more than one person (two guardians with
  joint custody) consent takes effect only when every one of them has given
  it after the latest withdrawal; until then the state is "waiting".
- "thinking" leaves every open question open; it changes no actor's state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

NONE = "none"
GIVEN = "given"
WAITING = "waiting"
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Decision:
    """One event as the state machine needs it."""

    seq: int
    unit_id: str | None
    kind: str  # given, withdrawn, thinking
    given_by: str  # the person whose decision it is (the person or a guardian)


@dataclass
class UnitState:
    status: str = NONE
    given_by: frozenset[str] = field(default_factory=frozenset)
    since_seq: int = 0  # the event that produced the status

    @property
    def active(self) -> bool:
        return self.status == GIVEN


def derive(decisions: Iterable[Decision], deciders: frozenset[str]) -> dict[str, UnitState]:
    """State per unit. `deciders` are whose consent is needed (the person, or all guardians).

    A decision by someone outside `deciders` (a proxy or legal representative
    acting for an adult) counts as the person's own.
    """
    states: dict[str, UnitState] = {}
    needed = max(len(deciders), 1)
    for decision in sorted(decisions, key=lambda d: d.seq):
        if decision.unit_id is None or decision.kind not in (GIVEN, WITHDRAWN):
            continue
        state = states.setdefault(decision.unit_id, UnitState())
        if decision.kind == WITHDRAWN:
            states[decision.unit_id] = UnitState(WITHDRAWN, frozenset(), decision.seq)
            continue
        giver = decision.given_by if decision.given_by in deciders else "__person__"
        if giver == "__person__" or needed == 1:
            states[decision.unit_id] = UnitState(GIVEN, frozenset({giver}), decision.seq)
            continue
        given_by = (state.given_by if state.status == WAITING else frozenset()) | {giver}
        if state.status == GIVEN:
            continue  # already in force; a repeated yes changes nothing
        status = GIVEN if deciders <= given_by else WAITING
        states[decision.unit_id] = UnitState(status, given_by, decision.seq)
    return states


def active_units(decisions: Iterable[Decision], deciders: frozenset[str]) -> set[str]:
    return {unit for unit, state in derive(decisions, deciders).items() if state.active}
