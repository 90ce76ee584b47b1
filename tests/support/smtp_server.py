"""A real SMTP server for the tests, on aiosmtpd (Debian's python3-aiosmtpd).

Stores every accepted message in a Maildir (with X-MailFrom / X-RcptTo
headers for the envelope) and, optionally, a copy in a second Maildir (a
Dovecot user's Sent folder, as Gmail or Microsoft 365 file what they accept).
Optionally requires AUTH, offers STARTTLS, refuses chosen recipients with a
chosen reply, and logs each transaction's start, end and any cut-off
(the client vanished between MAIL FROM and the end of DATA) as JSON lines.

Run with /usr/bin/python3 (the interpreter that sees Debian's module).
"""

import argparse
import asyncio
import json
import os
import pwd
import ssl
import time
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


def log_line(path, **fields):
    if not path:
        return
    fields["at"] = time.time()
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(fields) + "\n")
        log.flush()
        os.fsync(log.fileno())


def deliver(maildir, data, owner=None):
    """Writes into tmp/, then renames into new/ (the Maildir way)."""
    name = f"{time.time():.6f}.{uuid.uuid4().hex}.rapport-test"
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    tmp = os.path.join(maildir, "tmp", name)
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    if owner:
        os.chown(tmp, owner.pw_uid, owner.pw_gid)
    os.rename(tmp, os.path.join(maildir, "new", name))


def message_id(data):
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode("ascii", "replace")
    return None


class Handler:
    def __init__(self, args):
        self.args = args
        self.refusals = {}
        for rule in args.refuse:
            address, reply = rule.split("=", 1)
            self.refusals[address.lower()] = reply
        self.owner = pwd.getpwnam(args.copy_owner) if args.copy_owner else None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        log_line(self.args.log, event="mail", peer=str(session.peer))
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refusals.get(address.lower())
        if reply:
            log_line(self.args.log, event="refused", rcpt=address, reply=reply)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        head = (
            f"X-MailFrom: {envelope.mail_from}\r\nX-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        deliver(self.args.maildir, head + data)
        if self.args.copy_to:
            deliver(self.args.copy_to, data, self.owner)
        log_line(self.args.log, event="accepted", message_id=message_id(data))
        if self.args.delay_ms:
            await asyncio.sleep(self.args.delay_ms / 1000)
        return "250 OK"


class LoggingSMTP(SMTP):
    """Notes a transaction the client abandoned by vanishing."""

    def __init__(self, *args, log=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._log = log

    def connection_lost(self, error):
        envelope = getattr(self, "envelope", None)
        if envelope is not None and envelope.mail_from is not None:
            log_line(self._log, event="aborted")
        super().connection_lost(error)


class TestController(Controller):
    def __init__(self, handler, args, **kwargs):
        self._args = args
        super().__init__(handler, **kwargs)

    def factory(self):
        return LoggingSMTP(self.handler, log=self._args.log, **self.SMTP_kwargs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--copy-to")
    parser.add_argument("--copy-owner")
    parser.add_argument("--log")
    parser.add_argument("--auth", help="USER:PASSWORD")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (port 465 style)")
    parser.add_argument("--refuse", action="append", default=[], help="ADDRESS=REPLY")
    parser.add_argument("--delay-ms", type=int, default=0, help="pause before the final 250")
    args = parser.parse_args()

    kwargs = {}
    controller_tls = {}
    if args.tls_cert and args.implicit_tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        controller_tls["ssl_context"] = context
    elif args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            log_line(args.log, event="auth", ok=ok)
            # handled=False: aiosmtpd then answers 535 itself.
            return AuthResult(success=ok, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = bool(args.tls_cert) and not args.implicit_tls

    controller = TestController(
        Handler(args), args, hostname="127.0.0.1", port=args.port, **controller_tls, **kwargs
    )
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
