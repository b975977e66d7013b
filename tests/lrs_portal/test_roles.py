import pytest
from django.contrib.auth.models import Group

from lrs_portal import roles
from lrs_portal.models import User, system_user

pytestmark = pytest.mark.django_db


def test_the_migration_creates_every_role_as_a_group():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL)


@pytest.mark.parametrize("role", roles.ALL)
def test_each_role_has_exactly_its_listed_model_permissions(role):
    group = Group.objects.get(name=role)
    granted = {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()
    }

    assert granted >= set(roles.PERMISSIONS[role])


def test_a_caseworker_can_view_users_but_a_provider_cannot(caseworker, provider_user):
    assert caseworker.has_perm("lrs_portal.view_user")
    assert not provider_user.has_perm("lrs_portal.view_user")


def test_the_system_user_exists_and_cannot_sign_in():
    user = system_user()

    assert not user.is_active
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    ("persona", "needs_mfa"),
    [
        ("provider_user", False),
        ("provider_super_user", False),
        ("requester", False),
        ("caseworker", True),
        ("assessor", True),
        ("panel_member", True),
        ("superuser", True),
    ],
)
def test_mfa_is_required_for_staff_and_department_roles(request, persona, needs_mfa):
    user: User = request.getfixturevalue(persona)

    assert user.requires_mfa is needs_mfa


def test_emails_are_stored_lower_case():
    user = User.objects.create_user("Mixed.Case@Example.COM", "x" * 16, full_name="M")

    assert user.email == "mixed.case@example.com"


@pytest.mark.django_db(transaction=True)
def test_roles_and_the_system_user_survive_a_database_flush():
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)

    caseworker = Group.objects.get(name=roles.CASEWORKER)
    assert caseworker.permissions.filter(codename="decide_registrationapplication")
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL)
    assert system_user().has_usable_password() is False
