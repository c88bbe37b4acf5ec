"""factory_boy factories for every model; services are the way to make realistic history, factories for fixtures."""

import hashlib
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from letters.models import Letter, LetterCount, LetterRecipient, LetterVersion, Signature
from registry.models import Organization, OrganizationAlias, OrganizationDomain, Person, PersonEmail, ProtectedName


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")
    name_key = factory.Sequence(lambda n: f"organization {n}")


class OrganizationAliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationAlias

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Alias {n}")
    name_key = factory.Sequence(lambda n: f"alias {n}")


class OrganizationDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationDomain

    organization = factory.SubFactory(OrganizationFactory)
    domain = factory.Sequence(lambda n: f"org{n}.example")
    verified = True


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    display_name = factory.Faker("name")
    sort_name = factory.LazyAttribute(lambda p: p.display_name.split()[-1])
    name_key = factory.LazyAttribute(lambda p: p.display_name.lower())


class PersonEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonEmail

    person = factory.SubFactory(PersonFactory)
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    email_key = factory.LazyAttribute(lambda e: e.email.lower())
    verified_at = factory.LazyFunction(timezone.now)


class ProtectedNameFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProtectedName

    name = factory.Sequence(lambda n: f"Famous Person {n}")
    skeleton = factory.LazyAttribute(lambda p: p.name.lower())


BODY = "We, the undersigned, ask you to reconsider.\n\n**Defenders need the best tools.**"


class LetterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Letter
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"letter-{n}")
    title = factory.Sequence(lambda n: f"Open letter {n}")
    summary = "A letter used in tests."
    status = Letter.Status.OPEN
    opened_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """A draft first, then version 1, then the status asked for (a published letter needs its version)."""
        status = kwargs.pop("status", Letter.Status.OPEN)
        letter = super()._create(model_class, *args, status=Letter.Status.DRAFT, **kwargs)
        version = LetterVersion.objects.create(
            letter=letter,
            number=1,
            body=BODY,
            sha256=hashlib.sha256(BODY.encode()).hexdigest(),
            published_at=letter.opened_at or timezone.now(),
        )
        # The database requires a closing time of a closed letter and a publication time of a scheduled one.
        if status == Letter.Status.CLOSED and letter.closed_at is None:
            letter.closed_at = timezone.now()
        if status == Letter.Status.SCHEDULED and letter.publish_at is None:
            letter.publish_at = timezone.now() + timedelta(hours=1)
        Letter.objects.filter(pk=letter.pk).update(
            current_version=version, status=status, closed_at=letter.closed_at, publish_at=letter.publish_at
        )
        letter.current_version, letter.status = version, status
        LetterCount.objects.get_or_create(letter=letter)
        LetterRecipient.objects.create(letter=letter, position=0, name="Howard Lutnick", role="Secretary of Commerce")
        return letter


class SignatureFactory(factory.django.DjangoModelFactory):
    """A bare row. For realistic history (events, counts) sign and confirm through the services instead."""

    class Meta:
        model = Signature

    letter = factory.SubFactory(LetterFactory)
    version = factory.LazyAttribute(lambda s: s.letter.current_version)
    name = factory.Faker("name")
    title = "Security researcher"
    organization_name = "Example Corp"
    email = factory.Sequence(lambda n: f"signer{n}@example.org")
    email_key = factory.LazyAttribute(lambda s: s.email.lower())
    signed_at = factory.LazyFunction(timezone.now)
