from django.urls import path

from records import batch_views, transparency, usage_views, views

app_name = "records"

urlpatterns = [
    # Looking up learners (every page behind the gate)
    path("learners/", views.find, name="find"),
    path("learners/find-by-uln/", views.find_by_uln, name="find-by-uln"),
    path("learners/find-by-details/", views.find_by_details, name="find-by-details"),
    path("learners/record/", views.view_record, name="view-record"),
    # Batch matching: a file of learners searched by a worker (docs/batches.md)
    path("learners/batches/", batch_views.batch_list, name="batches"),
    path("learners/batches/new/", batch_views.batch_new, name="batch-new"),
    path(
        "learners/batches/template-<str:kind>.csv",
        batch_views.batch_template,
        name="batch-template",
    ),
    path("learners/batches/<uuid:public_id>/", batch_views.batch_detail, name="batch"),
    path(
        "learners/batches/<uuid:public_id>/status.json",
        batch_views.batch_status,
        name="batch-status",
    ),
    path(
        "learners/batches/<uuid:public_id>/results.csv",
        batch_views.batch_results_csv,
        name="batch-results",
    ),
    # The organisation's own usage and log, for its super user
    path("organisation/usage/", usage_views.usage, name="usage"),
    path("organisation/usage/log.csv", usage_views.usage_csv, name="usage-csv"),
    # Public transparency pages (no sign-in)
    path("access-register", transparency.access_register, name="access-register"),
    path(
        "access-register.csv",
        transparency.access_register_csv,
        name="access-register-csv",
    ),
    path(
        "who-looked-at-your-record",
        transparency.your_record,
        name="your-record",
    ),
]
