"""ebhxh.notify against real processes: e-mails through a real SMTP server (aiosmtpd) with
Django's SMTP backend, the outbox folder of the embedded default, and rate-limit counters shared
by separate processes (the database cache, and Redis)."""

import json
import mailbox
import time
import zlib
from email.header import decode_header, make_header

import pytest

from tests.integration.conftest import manage

pytestmark = pytest.mark.integration

PDF = "%PDF-1.4\\n% thu nghiem\\n%%EOF\\n"
SEND = (
    "import json; from ebhxh.notify.mail import send; from ebhxh.notify.models import OutboundEmail;"
    "e = send('test_message', ['donvi@example.vn'], {'name': 'Lan', 'note': 'A & B'},"
    f" attachments=[('bao-cao.pdf', b'{PDF}', 'application/pdf')], purpose='integration');"
    "e.refresh_from_db();"
    "print(json.dumps({'status': e.status, 'attempts': e.attempts, 'message_id': e.message_id,"
    " 'error': e.error, 'payload': e.payload is not None}))"
)


def _send(env):
    manage("migrate", "-v", "0", env=env)
    return json.loads(manage("shell", "--no-imports", "-c", SEND, env=env).stdout.strip())


def _messages(maildir):
    return list(mailbox.Maildir(str(maildir), create=False))


def _check_bilingual_with_attachment(message):
    assert str(make_header(decode_header(message["Subject"]))) == "Thư thử nghiệm / Test message"
    parts = {part.get_content_type(): part for part in message.walk()}
    text = parts["text/plain"].get_payload(decode=True).decode()
    html = parts["text/html"].get_payload(decode=True).decode()
    assert text.index("Xin chào Lan") < text.index("Hello Lan")
    assert html.index('lang="vi"') < html.index("Xin chào Lan") < html.index('lang="en"')
    assert html.index('lang="en"') < html.index("Hello Lan")
    attachment = parts["application/pdf"]
    assert attachment.get_filename() == "bao-cao.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.4\n% thu nghiem\n%%EOF\n"


def test_a_bilingual_message_with_an_attachment_arrives_over_smtp(tmp_path, smtp_server):
    port, maildir = smtp_server
    env = {"DATA_DIR": str(tmp_path), "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
    result = _send(env)
    assert result == {
        "status": "sent",
        "attempts": 1,
        "message_id": result["message_id"],
        "error": "",
        "payload": False,
    }
    messages = _messages(maildir)
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "donvi@example.vn"
    assert message["From"] == "ebhxh <no-reply@ebhxh.local>"
    assert message["Message-ID"] == result["message_id"]
    _check_bilingual_with_attachment(message)
    assert not (tmp_path / "outbox").exists()


def test_a_temporary_smtp_refusal_is_retried(tmp_path, refusing_smtp_server):
    port, maildir = refusing_smtp_server(1, "451 4.3.0 Try again later")
    env = {"DATA_DIR": str(tmp_path), "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
    # Embedded mode: eager tasks retry at once (the backoff applies with a broker and workers).
    result = _send(env)
    assert (result["status"], result["attempts"]) == ("sent", 2), result
    assert len(_messages(maildir)) == 1


def test_a_permanent_smtp_refusal_is_recorded_and_not_retried(tmp_path, refusing_smtp_server):
    port, maildir = refusing_smtp_server(-1, "554 5.7.1 Message refused")
    env = {"DATA_DIR": str(tmp_path), "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)}
    result = _send(env)
    assert (result["status"], result["attempts"]) == ("failed", 1)
    assert "554" in result["error"]
    assert result["payload"] is False
    assert _messages(maildir) == []


def test_the_embedded_default_writes_to_the_outbox_folder(tmp_path):
    result = _send({"DATA_DIR": str(tmp_path)})
    assert result["status"] == "sent"
    files = list((tmp_path / "outbox").glob("*.log"))
    assert len(files) == 1
    content = files[0].read_text(encoding="utf-8")
    assert f"Message-ID: {result['message_id']}" in content
    assert 'filename="bao-cao.pdf"' in content
    assert "Xin chào Lan" in content and "Hello Lan" in content


# --- Rate-limit counters shared between processes ----------------------------------------------

COUNT = (
    "from django.test import RequestFactory; from ebhxh.notify.ratelimits import check;"
    "r = RequestFactory().post('/', REMOTE_ADDR='{ip}');"
    "print(' '.join('x' if check('login', r) else '.' for _ in range({n})))"
)


def _quiet_address() -> str:
    # A counter's hour ends at a per-key offset: pick an address whose window will not end while
    # the test runs, so both processes count in the same window.
    now = int(time.time())
    for n in range(1, 255):
        ip = f"198.51.100.{n}"
        end = now - now % 3600 + zlib.crc32(f"ip:{ip}".encode()) % 3600
        if end < now:
            end += 3600
        if end - now > 300:
            return ip
    raise AssertionError("no address with a quiet window")


def _count_in_two_processes(env):
    env = {**env, "RATE_LIMIT_LOGIN": "10/h"}
    ip = _quiet_address()
    first = manage("shell", "--no-imports", "-c", COUNT.format(ip=ip, n=6), env=env).stdout.split()
    second = manage("shell", "--no-imports", "-c", COUNT.format(ip=ip, n=6), env=env).stdout.split()
    return first, second


def test_the_embedded_database_cache_is_shared_by_processes(tmp_path):
    env = {"DATA_DIR": str(tmp_path)}
    manage("migrate", "-v", "0", env=env)
    first, second = _count_in_two_processes(env)
    assert first == ["."] * 6
    assert second == [".", ".", ".", ".", "x", "x"]  # the 11th and 12th in the hour


def test_the_redis_cache_is_shared_by_processes(tmp_path, redis_url):
    env = {"DATA_DIR": str(tmp_path), "CACHE_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/1"}
    first, second = _count_in_two_processes(env)
    assert first == ["."] * 6
    assert second == [".", ".", ".", ".", "x", "x"]
