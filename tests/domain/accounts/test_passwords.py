"""The one password rule: length, nothing of the person's own, nothing common or easily guessed."""
import pytest

from residency import demo
from residency.core.errors import Invalid
from residency.domain.accounts import services
from residency.domain.accounts.passwords import password_problem

from tests.factories import PASSWORD


@pytest.mark.parametrize("password", [
    "aaaaaaaaaa", "1234567890", "0987654321", "qwertyuiop", "password12", "iloveyou12", "abcdefghij",
    "passwordpassword", "Password123",
])
def test_common_and_easily_guessed_passwords_are_refused(app, password):
    assert "too common" in str(password_problem(password, email="siv@example.test", name="Siv Founder"))


@pytest.mark.parametrize("password", [
    "siv.founder@example.test", "SIV.FOUNDER@EXAMPLE.TEST", "Siv Founder", "sivfounder", "founder of everything",
    "my siv.founder rocks",
])
def test_the_email_and_the_name_are_refused_whole_or_in_part(app, password):
    problem = password_problem(password, email="siv.founder@example.test", name="Siv Founder")
    assert "e-mail address or your name" in str(problem)


def test_length_is_ten_to_two_hundred(app):
    assert "at least 10" in str(password_problem("a9$Kq!z2", email=None, name=None))
    assert "at most 200" in str(password_problem("horse battery " * 20, email=None, name=None))
    assert password_problem("ab" * 50, email=None, name=None) is not None  # a long repeat is still guessable


@pytest.mark.parametrize("password", [PASSWORD, "fjords and benches at dawn", "a lighthouse on the skerry",
                                      "Tr0ndheim-lab-bench"])
def test_good_passwords_pass(app, password):
    assert password_problem(password, email="siv@example.test", name="Siv Founder") is None


def test_the_suites_password_and_the_demo_password_meet_the_rule(app):
    assert password_problem(PASSWORD, email="user1@example.test", name="User 1") is None
    for email, name, _org in demo.USERS:
        assert password_problem(demo.PASSWORD, email=email, name=name) is None, email


def test_services_refuse_a_bad_password_whoever_calls_them(app):
    with pytest.raises(Invalid) as refused:
        services.register(name="Siv Founder", email="siv@example.test", password="1234567890")
    assert "password" in refused.value.field_errors
