"""factory_boy factories for every model; services are the way to make realistic history, factories for fixtures."""

import hashlib

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

    @factory.post_generation
    def with_version(obj, create, extracted, **kwargs):
        if not create:
            return
        version = LetterVersion.objects.create(
            letter=obj,
            number=1,
            body=BODY,
            sha256=hashlib.sha256(BODY.encode()).hexdigest(),
            published_at=obj.opened_at or timezone.now(),
        )
        obj.current_version = version
        obj.save(update_fields=["current_version"])
        LetterCount.objects.get_or_create(letter=obj)
        LetterRecipient.objects.create(letter=obj, position=0, name="Howard Lutnick", role="Secretary of Commerce")


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
