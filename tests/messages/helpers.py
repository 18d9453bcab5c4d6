"""Helpers for the message tests: write a question, reply, act as staff on a thread."""

from __future__ import annotations

from sqlmodel import col, select

from portal.audit.models import AuditEvent
from portal.coordination.models import InternalNote
from portal.messages.models import Message, Thread
from portal.notices.models import OutboxMessage
from tests.conftest import Page, login
from tests.factories import db_run


def form_data(page: Page, selector: str = "form#form-field") -> dict:
    form = page.select_one(selector)
    assert form is not None, f"no form {selector}"
    return {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}


def recipient_values(page: Page) -> list[str]:
    return [i["value"] for i in page.select("input[name=recipient]")]


def checked_recipient(page: Page) -> str | None:
    node = page.select_one("input[name=recipient][checked]")
    return node["value"] if node else None


def ask(client, page, *, recipient: str | None = None, subject: str = "Tider för hemtjänsten",
        body: str = "När kommer hemtjänsten på lördag?", query: str = "", data: dict | None = None):
    """Open the new-question page and send it; returns (response, the form's data)."""
    form_page = page("/meddelanden/ny" + query)
    sent = {**form_data(form_page), "recipient": recipient or recipient_values(form_page)[-1],
            "topic": subject, "body": body, **(data or {})}
    return client.post("/meddelanden/ny", data=sent, follow_redirects=False), sent


def thread_id_of(response) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:800])
    return response.headers["location"].rsplit("/", 1)[-1]


def as_staff(client, given: str) -> None:
    client.cookies.clear()
    assert login(client, given, "staff").status_code == 303


def as_citizen(client, who: str) -> None:
    client.cookies.clear()
    assert login(client, who, "citizen").status_code == 303


def staff_action(client, page, thread_id: str, action: str, **fields):
    """Send one of the staff forms on the thread page, as shown."""
    shown = page(f"/personal/meddelanden/{thread_id}")
    for form in shown.select("form"):
        hidden = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
        if hidden.get("action") == action:
            return client.post(f"/personal/meddelanden/{thread_id}", data={**hidden, **fields},
                               follow_redirects=False)
    raise AssertionError(f"no {action} form")


def messages_in(client, thread_id: str) -> list[Message]:
    async def work(db):
        return list((await db.exec(select(Message).where(Message.thread_id == thread_id)
                                   .order_by(col(Message.created_at)))).all())

    return db_run(client, work)


def threads_of(client, person_id: str) -> list[Thread]:
    async def work(db):
        return list((await db.exec(select(Thread).where(Thread.person_id == person_id))).all())

    return db_run(client, work)


def thread_row(client, thread_id: str) -> Thread:
    async def work(db):
        return await db.get(Thread, thread_id)

    return db_run(client, work)


def notes_in(client, thread_id: str) -> list[InternalNote]:
    async def work(db):
        return list((await db.exec(select(InternalNote).where(
            InternalNote.thread_id == thread_id))).all())

    return db_run(client, work)


def outbox_for(client, person_id: str, template: str) -> list[OutboxMessage]:
    async def work(db):
        return list((await db.exec(select(OutboxMessage).where(
            OutboxMessage.person_id == person_id, OutboxMessage.template == template))).all())

    return db_run(client, work)


def audit_actions(client, object_id: str) -> list[str]:
    async def work(db):
        return [e.action for e in (await db.exec(select(AuditEvent).where(
            AuditEvent.object_id == object_id).order_by(col(AuditEvent.id)))).all()]

    return db_run(client, work)
