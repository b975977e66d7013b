from django.urls import path

from registration.views import (
    api_clients,
    apply,
    apply_company,
    director,
    members,
    organisation,
    recertification,
    signing,
    submit,
    suspension,
    yearly_confirmation,
)

app_name = "registration"

urlpatterns = [
    # Applying to register (the applicant's own open application)
    path("apply/create-account/", apply.create_account, name="create-account"),
    path("apply/", apply.task_list, name="task-list"),
    path(
        "apply/organisation-details/",
        apply.organisation_details,
        name="organisation-details",
    ),
    path("apply/accreditation/", apply.accreditation, name="accreditation"),
    path(
        "apply/accreditation/<int:pk>/remove/",
        apply.accreditation_remove,
        name="remove-accreditation",
    ),
    path("apply/going-concern/", apply_company.going_concern, name="going-concern"),
    path("apply/purpose/", apply.purpose, name="purpose"),
    path("apply/learners-served/", apply.learners_served, name="learners-served"),
    path(
        "apply/signing-director/",
        apply_company.signing_director,
        name="signing-director",
    ),
    path("apply/check-answers/", submit.check_answers, name="check-answers"),
    # One of the applicant's applications, by reference
    path("apply/<str:reference>/", submit.application_status, name="application"),
    path("apply/<str:reference>/submitted/", submit.submitted, name="submitted"),
    path(
        "apply/<str:reference>/signing-link/",
        submit.resend_signing_link,
        name="resend-signing-link",
    ),
    # The director's single-use link
    path("agreement/sign/<str:token>/", signing.sign, name="sign"),
    # Once registered: the organisation's users
    path("organisation/users/", members.users, name="users"),
    path("organisation/users/invite/", members.invite_user, name="invite-user"),
    path(
        "organisation/users/<int:pk>/remove/", members.remove_user, name="remove-user"
    ),
    path(
        "organisation/users/confirm/",
        recertification.recertification,
        name="recertification",
    ),
    path(
        "organisation/users/confirm/<int:pk>/",
        recertification.recertification_confirm_user,
        name="recertification-confirm",
    ),
    path(
        "organisation/users/confirm/<int:pk>/remove/",
        recertification.recertification_remove_user,
        name="recertification-remove",
    ),
    path(
        "organisation/confirmation/",
        yearly_confirmation.yearly_confirmation,
        name="yearly-confirmation",
    ),
    path(
        "organisation/confirmation/nothing-changed/",
        yearly_confirmation.yearly_confirmation_nothing_changed,
        name="yearly-confirmation-nothing-changed",
    ),
    path(
        "organisation/confirmation/change/",
        yearly_confirmation.yearly_confirmation_change,
        name="yearly-confirmation-change",
    ),
    path(
        "organisation/confirmation/check/",
        yearly_confirmation.yearly_confirmation_check,
        name="yearly-confirmation-check",
    ),
    path(
        "organisation/confirmation/done/",
        yearly_confirmation.yearly_confirmation_done,
        name="yearly-confirmation-done",
    ),
    path("organisation/terms/", members.user_terms, name="user-terms"),
    path(
        "organisation/details/",
        organisation.organisation_details,
        name="organisation-details-change",
    ),
    path(
        "organisation/signing-director/",
        director.change_signing_director,
        name="change-signing-director",
    ),
    path("organisation/suspension/", suspension.suspensions, name="suspension"),
    path(
        "organisation/suspension/<int:pk>/explain/",
        suspension.explain,
        name="explain-suspension",
    ),
    path("organisation/register-again/", organisation.reregister, name="reregister"),
    # Once registered: the organisation's API clients (its super user's)
    path("organisation/api-clients/", api_clients.api_clients, name="api-clients"),
    path(
        "organisation/api-clients/create/",
        api_clients.api_client_create_page,
        name="api-client-create",
    ),
    path(
        "organisation/api-clients/<int:pk>/secret/",
        api_clients.api_client_secret,
        name="api-client-secret",
    ),
    path(
        "organisation/api-clients/<int:pk>/change-secret/",
        api_clients.api_client_rotate,
        name="api-client-rotate",
    ),
    path(
        "organisation/api-clients/<int:pk>/revoke/",
        api_clients.api_client_revoke_page,
        name="api-client-revoke",
    ),
    path(
        "invitation/<str:token>/", members.accept_invitation, name="accept-invitation"
    ),
]
