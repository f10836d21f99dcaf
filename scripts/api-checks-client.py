"""Calls guichet through a Python client generated from its OpenAPI document by
openapi-python-client (as an integrator would), for what a generated client gets wrong when the
document is: every operation whose body is optional, called without one.

    api-checks-client.py CLIENT_DIR BASE RESIDENT_TOKEN CLERK_TOKEN APPLICATION_JSON

CLIENT_DIR holds the generated package `guichet_client`. Exits non-zero on the first call
that does not answer as documented."""
import json
import sys

client_dir, base, resident_token, clerk_token, application_json = sys.argv[1:6]
sys.path.insert(0, client_dir)

import httpx  # noqa: E402  (installed with openapi-python-client)
from guichet_client import AuthenticatedClient  # noqa: E402
from guichet_client.api.applications import submit_application, withdraw_application  # noqa: E402
from guichet_client.api.catalogue_administration import create_service_draft  # noqa: E402


def check(name, response, status):
    print(f"api-checks-client: {name} without a body -> {response.status_code}")
    if response.status_code != status:
        sys.exit(f"api-checks-client: {name} answered {response.status_code}, not {status}: {response.content[:500]!r}")
    return response


resident = AuthenticatedClient(base_url=base, token=resident_token)
clerk = AuthenticatedClient(base_url=base, token=clerk_token)

# A draft to submit and withdraw (created with plain HTTP: the point is the optional bodies).
draft = json.load(open(application_json))
draft["submit"] = False
created = httpx.post(f"{base}/v1/applications", json=draft, headers={"Authorization": f"Bearer {resident_token}"})
if created.status_code != 201:
    sys.exit(f"api-checks-client: could not create a draft: {created.status_code} {created.text[:500]}")
app_id = created.json()["id"]

etag = created.headers["etag"]
submitted = check(
    "submit_application", submit_application.sync_detailed(app_id, client=resident, if_match=etag), 200
)
if submitted.parsed.phase != "submitted":
    sys.exit(f"api-checks-client: submitted, but the phase is {submitted.parsed.phase}")
withdrawn = check(
    "withdraw_application",
    withdraw_application.sync_detailed(app_id, client=resident, if_match=submitted.headers["etag"]),
    200,
)
if withdrawn.parsed.phase != "withdrawn":
    sys.exit(f"api-checks-client: withdrawn, but the phase is {withdrawn.parsed.phase}")
draft_version = check(
    "create_service_draft", create_service_draft.sync_detailed("wohnsitzbestaetigung", client=clerk), 201
)
if draft_version.parsed.state != "draft":
    sys.exit(f"api-checks-client: a draft version was created in state {draft_version.parsed.state}")
print("api-checks-client: every optional body may be left out")
