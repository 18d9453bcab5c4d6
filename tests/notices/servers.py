"""Real servers for the notice tests, on 127.0.0.1.

`SMTPServer`: aiosmtpd, keeping what it receives (`inbox`); stop() and start() again
to be down for a while.

`SMSServer`: a local HTTP server that speaks 46elks' SMS API, as portal.notices.sms uses it.

POST /a1/sms with HTTP basic auth and the form fields from, to, message; answers 200
with JSON {"id", "status": "created", "from", "to", "message", ...} like 46elks, 401 for
wrong credentials, 400 for a missing field, and 503 while `down` is set.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [message_from_bytes(e.original_content, policy=policy.default)
                for e in self.envelopes if address in e.rcpt_tos]



class SMTPServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


USER, PASSWORD = "u0123456789abcdef", "test-password"


@dataclass
class SMS:
    sender: str
    to: str
    message: str


class SMSServer:
    def __init__(self) -> None:
        self.received: list[SMS] = []
        self.down = False
        self.refused = 0  # requests answered 503 while down
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                return

            def _answer(self, status: int, body: str, kind: str = "text/plain") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path != "/a1/sms":
                    return self._answer(404, "Not found")
                if server.down:
                    with server.lock:
                        server.refused += 1
                    return self._answer(503, "Service unavailable")
                expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, "Unauthorized")
                for name in ("from", "to", "message"):
                    if not form.get(name):
                        return self._answer(400, f"Missing key {name}")
                if not form["to"].startswith("+"):
                    return self._answer(400, "Invalid to number")
                sms = SMS(form["from"], form["to"], form["message"])
                with server.lock:
                    server.received.append(sms)
                return self._answer(200, json.dumps({
                    "id": "s" + secrets.token_hex(16), "status": "created", "direction": "outgoing",
                    "from": sms.sender, "to": sms.to, "message": sms.message, "parts": 1,
                    "cost": 3500, "created": "2026-11-23T13:30:00.000000"}), "application/json")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def to(self, number: str) -> list[SMS]:
        with self.lock:
            return [sms for sms in self.received if sms.to == number]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
