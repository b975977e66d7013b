from django.urls import path

from approvals.views import progress, public, requests

app_name = "approvals"

urlpatterns = [
    # The public register of approved shares
    path("data-sharing/published/", public.published, name="published"),
    path("data-sharing/published.csv", public.published_csv, name="published-csv"),
    # The requester's organisation's requests
    path("data-sharing/", requests.request_list, name="requests"),
    path("data-sharing/start/", requests.request_start, name="start-request"),
    path("data-sharing/<str:reference>/", progress.status, name="request"),
    path("data-sharing/<str:reference>/tasks/", requests.task_list, name="tasks"),
    path("data-sharing/<str:reference>/datasets/", requests.datasets, name="datasets"),
    path(
        "data-sharing/<str:reference>/datasets/<int:pk>/remove/",
        requests.dataset_remove,
        name="remove-dataset",
    ),
    path(
        "data-sharing/<str:reference>/researchers/",
        requests.researchers,
        name="researchers",
    ),
    path(
        "data-sharing/<str:reference>/researchers/<int:pk>/remove/",
        requests.researcher_remove,
        name="remove-researcher",
    ),
    path(
        "data-sharing/<str:reference>/check-answers/",
        requests.check_answers,
        name="check-answers",
    ),
    path("data-sharing/<str:reference>/withdraw/", progress.withdraw, name="withdraw"),
    path("data-sharing/<str:reference>/change/", progress.change, name="change"),
    path(
        "data-sharing/<str:reference>/destruction-certificate/",
        progress.certificate,
        name="certificate",
    ),
    path(
        "data-sharing/<str:reference>/section/<slug:key>/",
        requests.section,
        name="section",
    ),
]
