"""Property: a status only ever moves along the table, and never leaves an end state."""

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from lrs_portal.transitions import TransitionNotAllowed
from registration.models import RegistrationApplication
from registration.services import APPLICATION_TRANSITIONS, application_transition
from tests.factories import RegistrationApplicationFactory, UserFactory

STATUSES = list(RegistrationApplication.Status.values)
TERMINAL = {s for s, targets in APPLICATION_TRANSITIONS.items() if not targets}


class ApplicationTransitionProperties(TestCase):
    @settings(max_examples=40, deadline=None)
    @given(moves=st.lists(st.sampled_from(STATUSES), max_size=8))
    def test_moves_follow_the_table_and_end_states_are_final(self, moves):
        actor = UserFactory.create()
        application = RegistrationApplicationFactory.create()
        versions = application.history.count()
        for target in moves:
            before = application.status
            try:
                application = application_transition(
                    application=application, to=target, acting_user=actor, reason="t"
                )
            except TransitionNotAllowed:
                application.refresh_from_db()
                assert application.status == before
                assert target not in APPLICATION_TRANSITIONS[before]
            else:
                assert target in APPLICATION_TRANSITIONS[before]
                assert before not in TERMINAL
                versions += 1
            assert application.history.count() == versions
