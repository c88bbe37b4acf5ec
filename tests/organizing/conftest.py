"""Organizer fixtures: users with or without a second factor, members of a letter by role."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from organizing.models import Membership
from tests.factories import LetterFactory, UserFactory


def with_second_factor(user, kind=Authenticator.Type.TOTP):
    """Give `user` a second factor as allauth stores one (the secret is irrelevant to the permission rules)."""
    Authenticator.objects.create(user=user, type=kind, data={"secret": "unused-in-these-tests"})
    return user


def verified(user, email=None):
    EmailAddress.objects.create(user=user, email=email or user.email, verified=True, primary=email is None)
    return user


def member(letter, role, *, second_factor=False, **user_fields):
    user = UserFactory(**user_fields)
    if second_factor:
        with_second_factor(user)
    Membership.objects.create(letter=letter, user=user, role=role)
    return user


@pytest.fixture
def letter(db):
    return LetterFactory(slug="coalition-letter", status="open")


@pytest.fixture
def other_letter(db):
    return LetterFactory(slug="other-letter", status="open")


@pytest.fixture
def owner(letter):
    return member(letter, Membership.Role.OWNER, second_factor=True, username="owner")
