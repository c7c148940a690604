"""Effect capture (shadow handler side) and observation (monolith side)."""

from __future__ import annotations

import urllib.request

import pytest
from django.core import mail
from django.core.mail import EmailMessage, send_mail

from shims.effects import capture, observe


def test_capture_records_mail_without_sending() -> None:
    mail.outbox = []
    with capture(databases=False) as effects:
        send_mail("Hi", "body", "a@example.com", ["b@example.com"])
        EmailMessage("Two", "b2", "a@example.com", ["c@example.com"]).send()
    assert mail.outbox == []
    assert [m["subject"] for m in effects.mail] == ["Hi", "Two"]
    assert effects.mail[0]["to"] == ["b@example.com"]


def test_observe_records_mail_and_lets_it_through() -> None:
    mail.outbox = []
    with observe() as effects:
        send_mail("Hi", "body", "a@example.com", ["b@example.com"])
    assert len(mail.outbox) == 1
    assert effects.mail == [
        {
            "from": "a@example.com",
            "to": ["b@example.com"],
            "cc": [],
            "bcc": [],
            "subject": "Hi",
            "body": "body",
        }
    ]


def test_outside_a_block_mail_is_untouched() -> None:
    mail.outbox = []
    with capture(databases=False):
        pass
    send_mail("Hi", "body", "a@example.com", ["b@example.com"])
    assert len(mail.outbox) == 1


def test_capture_answers_urllib_without_a_network_call() -> None:
    with capture(databases=False) as effects:
        response = urllib.request.urlopen("http://127.0.0.1:1/never-called", data=b"x")
        assert response.status == 200
        assert response.read() == b""
    assert effects.http == [
        {"client": "urllib", "method": "POST", "url": "http://127.0.0.1:1/never-called"}
    ]


def test_observe_lets_http_through() -> None:
    with observe() as effects, pytest.raises(OSError):
        urllib.request.urlopen("http://127.0.0.1:1/refused", timeout=1)
    assert effects.http[0]["url"] == "http://127.0.0.1:1/refused"


@pytest.mark.django_db(transaction=True)
def test_capture_rolls_back_database_writes() -> None:
    from django.contrib.auth.models import User

    with capture() as effects:
        User.objects.create(username="ghost")
        assert User.objects.filter(username="ghost").exists()
    assert not User.objects.filter(username="ghost").exists()
    assert any(sql.startswith("INSERT") for sql in effects.db)
