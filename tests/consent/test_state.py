"""The derived consent state: table tests and property tests against a reference model.

`derive` is a pure function of the event log, so it is tested without a database.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.consent.state import GIVEN, NONE, WAITING, WITHDRAWN, Decision, active_units, derive

PERSON, AMINA, YUSUF, KARIN = "person", "amina", "yusuf", "karin"
ALONE = frozenset({PERSON})
JOINT = frozenset({AMINA, YUSUF})
VC, SOC = "vc", "soc"


def log(*entries: tuple[str | None, str, str]) -> list[Decision]:
    """(unit, kind, given_by) in the order they happened; seq 1, 2, 3 ..."""
    return [Decision(seq, unit, kind, by) for seq, (unit, kind, by) in enumerate(entries, start=1)]


def status(decisions: list[Decision], deciders: frozenset[str], unit: str = VC) -> str:
    return derive(decisions, deciders).get(unit).status if unit in derive(decisions, deciders) \
        else NONE


TABLE = [
    # name, log, deciders, expected status per unit
    ("nothing yet", log(), ALONE, {VC: NONE}),
    ("single person says yes", log((VC, GIVEN, PERSON)), ALONE, {VC: GIVEN, SOC: NONE}),
    ("single person, two units, one withdrawn",
     log((VC, GIVEN, PERSON), (SOC, GIVEN, PERSON), (SOC, WITHDRAWN, PERSON)), ALONE,
     {VC: GIVEN, SOC: WITHDRAWN}),
    ("single person withdraws and says yes again",
     log((VC, GIVEN, PERSON), (VC, WITHDRAWN, PERSON), (VC, GIVEN, PERSON)), ALONE, {VC: GIVEN}),
    ("withdrawal without an earlier yes", log((VC, WITHDRAWN, PERSON)), ALONE, {VC: WITHDRAWN}),
    ("one guardian only: waiting", log((VC, GIVEN, AMINA)), JOINT, {VC: WAITING}),
    ("two guardians, Amina first", log((VC, GIVEN, AMINA), (VC, GIVEN, YUSUF)), JOINT,
     {VC: GIVEN}),
    ("two guardians, Yusuf first", log((VC, GIVEN, YUSUF), (VC, GIVEN, AMINA)), JOINT,
     {VC: GIVEN}),
    ("the same guardian twice is still waiting", log((VC, GIVEN, AMINA), (VC, GIVEN, AMINA)),
     JOINT, {VC: WAITING}),
    ("withdrawal between the two yeses",
     log((VC, GIVEN, AMINA), (VC, WITHDRAWN, AMINA), (VC, GIVEN, YUSUF)), JOINT, {VC: WAITING}),
    ("withdrawal by the other guardian between the two yeses",
     log((VC, GIVEN, AMINA), (VC, WITHDRAWN, YUSUF), (VC, GIVEN, YUSUF)), JOINT, {VC: WAITING}),
    ("withdrawal by one guardian after both said yes",
     log((VC, GIVEN, AMINA), (VC, GIVEN, YUSUF), (VC, WITHDRAWN, YUSUF)), JOINT, {VC: WITHDRAWN}),
    ("both say yes again after a withdrawal",
     log((VC, GIVEN, AMINA), (VC, GIVEN, YUSUF), (VC, WITHDRAWN, AMINA), (VC, GIVEN, YUSUF),
         (VC, GIVEN, AMINA)), JOINT, {VC: GIVEN}),
    ("guardians' units are independent",
     log((VC, GIVEN, AMINA), (SOC, GIVEN, YUSUF), (SOC, GIVEN, AMINA)), JOINT,
     {VC: WAITING, SOC: GIVEN}),
    ("a legal representative's yes for an adult counts as the person's",
     log((VC, GIVEN, KARIN)), ALONE, {VC: GIVEN}),
    ("a proxy's withdrawal ends it", log((VC, GIVEN, PERSON), (VC, WITHDRAWN, KARIN)), ALONE,
     {VC: WITHDRAWN}),
    ("repeated yes changes nothing",
     log((VC, GIVEN, PERSON), (VC, GIVEN, PERSON), (VC, GIVEN, PERSON)), ALONE, {VC: GIVEN}),
    ("repeated yes after both guardians changes nothing",
     log((VC, GIVEN, AMINA), (VC, GIVEN, YUSUF), (VC, GIVEN, AMINA)), JOINT, {VC: GIVEN}),
    ("thinking leaves the question open", log((None, "thinking", PERSON)), ALONE, {VC: NONE}),
    ("thinking after a yes changes nothing", log((VC, GIVEN, PERSON), (None, "thinking", PERSON)),
     ALONE, {VC: GIVEN}),
    ("thinking while waiting keeps waiting",
     log((VC, GIVEN, AMINA), (None, "thinking", YUSUF)), JOINT, {VC: WAITING}),
]


@pytest.mark.parametrize(("decisions", "deciders", "expected"),
                         [pytest.param(d, p, e, id=name) for name, d, p, e in TABLE])
def test_derive_table(decisions, deciders, expected):
    states = derive(decisions, deciders)
    for unit, want in expected.items():
        got = states[unit].status if unit in states else NONE
        assert got == want, (unit, got, want)
    assert active_units(decisions, deciders) == {u for u, s in expected.items() if s == GIVEN}


def test_waiting_state_names_who_has_answered():
    states = derive(log((VC, GIVEN, YUSUF)), JOINT)
    assert states[VC].given_by == frozenset({YUSUF})
    assert JOINT - states[VC].given_by == {AMINA}
    assert not states[VC].active


def test_the_order_of_the_input_does_not_matter_only_seq():
    decisions = log((VC, GIVEN, AMINA), (VC, WITHDRAWN, YUSUF), (VC, GIVEN, YUSUF))
    assert status(list(reversed(decisions)), JOINT) == WAITING


# --- property tests ------------------------------------------------------------------

UNITS = ["u1", "u2", "u3"]
ACTORS = [PERSON, AMINA, YUSUF, KARIN]
DECIDER_SETS = [ALONE, JOINT, frozenset({AMINA}), frozenset({AMINA, YUSUF, KARIN})]

acts = st.lists(
    st.tuples(st.sampled_from(UNITS + [None]), st.sampled_from([GIVEN, WITHDRAWN, "thinking"]),
              st.sampled_from(ACTORS)),
    max_size=30,
)


def reference(decisions: list[Decision], deciders: frozenset[str]) -> dict[str, str]:
    """Obviously correct: per unit, look only at what happened after the last withdrawal."""
    per_unit: dict[str, list[Decision]] = defaultdict(list)
    for d in sorted(decisions, key=lambda d: d.seq):
        if d.unit_id is not None and d.kind in (GIVEN, WITHDRAWN):
            per_unit[d.unit_id].append(d)
    result = {}
    for unit in UNITS:
        events = per_unit.get(unit, [])
        withdrawals = [i for i, d in enumerate(events) if d.kind == WITHDRAWN]
        after = events[withdrawals[-1] + 1:] if withdrawals else events
        said_yes = {d.given_by for d in after if d.kind == GIVEN}
        if said_yes - deciders or (said_yes and deciders <= said_yes):
            result[unit] = GIVEN
        elif said_yes & deciders:
            result[unit] = WAITING
        elif withdrawals:
            result[unit] = WITHDRAWN
        else:
            result[unit] = NONE
    return result


def as_log(entries) -> list[Decision]:
    return log(*entries)


@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(entries=acts, deciders=st.sampled_from(DECIDER_SETS))
def test_derive_matches_the_reference_model(entries, deciders):
    decisions = as_log(entries)
    states = derive(decisions, deciders)
    expected = reference(decisions, deciders)
    for unit in UNITS:
        got = states[unit].status if unit in states else NONE
        assert got == expected[unit], (unit, decisions, deciders)


@settings(max_examples=150, deadline=None, database=None)
@given(entries=acts, deciders=st.sampled_from(DECIDER_SETS))
def test_given_always_has_a_justifying_event(entries, deciders):
    decisions = as_log(entries)
    by_seq = {d.seq: d for d in decisions}
    for unit, state in derive(decisions, deciders).items():
        if state.status != GIVEN:
            continue
        cause = by_seq[state.since_seq]
        assert cause.unit_id == unit and cause.kind == GIVEN
        later = [d for d in decisions if d.unit_id == unit and d.seq > state.since_seq]
        assert all(d.kind != WITHDRAWN for d in later), "given after a withdrawal"
        last_withdrawal = max((d.seq for d in decisions if d.unit_id == unit
                               and d.kind == WITHDRAWN), default=0)
        yes = {d.given_by for d in decisions if d.unit_id == unit and d.kind == GIVEN
               and last_withdrawal < d.seq <= state.since_seq}
        assert yes - deciders or deciders <= yes, "given without every decider's yes"


@settings(max_examples=100, deadline=None, database=None)
@given(entries=acts, deciders=st.sampled_from(DECIDER_SETS), seed=st.integers(0, 2**32))
def test_thinking_and_input_order_change_nothing(entries, deciders, seed):
    decisions = as_log(entries)
    without_thinking = [d for d in decisions if d.kind != "thinking"]
    shuffled = list(decisions)
    random.Random(seed).shuffle(shuffled)
    plain = {u: s.status for u, s in derive(without_thinking, deciders).items()}
    assert {u: s.status for u, s in derive(decisions, deciders).items()} == plain
    assert {u: s.status for u, s in derive(shuffled, deciders).items()} == plain


@settings(max_examples=100, deadline=None, database=None)
@given(entries=acts, deciders=st.sampled_from(DECIDER_SETS))
def test_a_withdrawal_by_anyone_ends_consent_at_once(entries, deciders):
    decisions = as_log(entries)
    for unit in UNITS:
        withdrawn = decisions + [Decision(len(decisions) + 1, unit, WITHDRAWN,
                                          min(deciders))]
        assert derive(withdrawn, deciders)[unit].status == WITHDRAWN
