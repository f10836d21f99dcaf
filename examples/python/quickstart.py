"""docs/QUICKSTART.md's partner path through a client generated from guichet's OpenAPI
document with openapi-python-client: no hand-written HTTP, only the generated functions.

    python quickstart.py          (with the generated package `guichet_client` beside it)

Environment: GUICHET (the server's URL), CLIENT_ID and CLIENT_SECRET (the partner's client,
from `guichet organisation create`), CLERK_EMAIL and CLERK_PASSWORD (a clerk of the
Polizeiinspektorat, from `guichet user create --role clerk`), and IDEMPOTENCY_KEY (any fresh
key; one per application). examples/run sets them all up against a fresh server.

What it does, as a fiduciary's software would:
 1. gets a token (OAuth 2.0 client credentials);
 2. finds the residents' and business parking permit in the catalogue and reads its form;
 3. creates and submits the application with the vehicle registration in one call, with an
    Idempotency-Key, and sends the very same request again: one application;
 4. reads the status as the applicant and on the public tracking page;
 5. a clerk signs in, reads the document, and approves the application (two moves, each with
    the application's ETag in If-Match);
 6. the applicant sees the approval, with the clerk's public comment.
"""

import os
import sys

from guichet_client import AuthenticatedClient, Client
from guichet_client.api.applications import (
    create_application,
    download_document,
    get_application,
    get_application_status,
    list_applications,
    transition_application,
)
from guichet_client.api.catalogue import get_service_form, list_services
from guichet_client.api.oauth import issue_token
from guichet_client.models import (
    Application,
    ApplicationWithDocuments,
    LangParam,
    NewApplication,
    NewApplicationDataType0,
    Phase,
    TokenRequest,
    TransitionInput,
)
from guichet_client.types import File

GUICHET = os.environ["GUICHET"]
# A PDF as a scanner writes it (the server checks the bytes are what the part declares).
REGISTRATION = b"%PDF-1.7\n% Fahrzeugausweis BE 123456, scanned\n%%EOF\n"


def expect(status, response, what):
    """The answer's status is the documented one, else stop with what the server said."""
    if response.status_code != status:
        sys.exit(f"python example: {what}: {response.status_code} {response.content[:600]!r}")
    print(f"python example: {what}: {response.status_code}")
    return response.parsed


def token(body: TokenRequest) -> str:
    public = Client(base_url=GUICHET)
    return expect(200, issue_token.sync_detailed(client=public, body=body), f"token ({body.grant_type})").access_token


# 1. The partner's token.
partner = AuthenticatedClient(
    base_url=GUICHET,
    token=token(
        TokenRequest(
            grant_type="client_credentials",
            client_id=os.environ["CLIENT_ID"],
            client_secret=os.environ["CLIENT_SECRET"],
        )
    ),
)

# 2. The parking permit, found by a search as a person would, and its form.
found = expect(200, list_services.sync_detailed(client=partner, q="parking", lang=LangParam.EN), "search the catalogue")
slugs = [s.slug for s in found.data]
if "anwohnerparkkarte" not in slugs:
    sys.exit(f"python example: the search did not find the parking permit: {slugs}")
form = expect(200, get_service_form.sync_detailed("anwohnerparkkarte", client=partner, lang=LangParam.EN), "read its form")
if "vehicle_registration" not in form["required"]:
    sys.exit("python example: the form does not ask for the vehicle registration")

# 3. Create and submit with the document, twice with the same key.
application = NewApplication(
    service="anwohnerparkkarte",
    submit=True,
    data=NewApplicationDataType0.from_dict(
        {
            "applicant_type": "business",
            "last_name": "Muster",
            "first_name": "Anna",
            "company_name": "Muster Haustechnik AG",
            "address": {"street": "Bälliz", "house_number": "10", "postal_code": "3600", "city": "Thun"},
            "zone": "seefeld_bahnhof_SB",
            "license_plate": "BE 123456",
            "valid_from": "2027-03-01",
            "duration": "6_months",
            "vehicle_registration": "fahrzeugausweis.pdf",
            "email": "anna.muster@example.ch",
        }
    ),
)


def with_documents() -> ApplicationWithDocuments:
    # a new File each time: its payload is a stream the first request reads to the end
    from io import BytesIO

    scan = File(payload=BytesIO(REGISTRATION), file_name="fahrzeugausweis.pdf", mime_type="application/pdf")
    return ApplicationWithDocuments(application=application, documents=[scan])


key = os.environ["IDEMPOTENCY_KEY"]
first = create_application.sync_detailed(client=partner, body=with_documents(), idempotency_key=key)
created: Application = expect(201, first, "create and submit with the document")
again = create_application.sync_detailed(client=partner, body=with_documents(), idempotency_key=key)
replayed: Application = expect(201, again, "the same request again")
if replayed.id != created.id or again.headers.get("Idempotent-Replayed") != "true":
    sys.exit(f"python example: the retry made another application ({created.id}, {replayed.id})")
mine = expect(200, list_applications.sync_detailed(client=partner), "list the partner's applications")
if [a.id for a in mine.data] != [created.id]:
    sys.exit(f"python example: the partner has {len(mine.data)} applications, not one")
document_id = created.data["vehicle_registration"]
print(f"python example: {created.reference} is {created.phase.value}, the registration is document {document_id}")

# 4. The status, as the applicant and on the tracking page (no token, the tracking code).
seen = expect(200, get_application.sync_detailed(created.id, client=partner, lang=LangParam.EN), "read it as the applicant")
tracked = expect(
    200,
    get_application_status.sync_detailed(
        created.reference, client=Client(base_url=GUICHET), x_tracking_code=created.tracking_code, lang=LangParam.EN
    ),
    "read the tracking page",
)
if seen.phase != Phase.SUBMITTED or tracked.phase != Phase.SUBMITTED:
    sys.exit(f"python example: submitted, but seen as {seen.phase} and tracked as {tracked.phase}")

# 5. The clerk reads the document and approves.
clerk = AuthenticatedClient(
    base_url=GUICHET,
    token=token(
        TokenRequest(grant_type="password", username=os.environ["CLERK_EMAIL"], password=os.environ["CLERK_PASSWORD"])
    ),
)
scan = expect(
    200, download_document.sync_detailed(created.id, document_id, client=clerk), "the clerk downloads the document"
)
if scan.payload.read() != REGISTRATION:
    sys.exit("python example: the downloaded document is not the one sent")
current = get_application.sync_detailed(created.id, client=clerk)
expect(200, current, "the clerk opens the application")
for move in (Phase.IN_REVIEW, Phase.APPROVED):
    if move not in current.parsed.allowed_moves:
        sys.exit(f"python example: the clerk may not move it to {move.value}: {current.parsed.allowed_moves}")
    body = TransitionInput(to=move)
    if move == Phase.APPROVED:
        body.public_comment = "Ihre Parkkarte ist ab dem 1. März 2027 gültig."
    current = transition_application.sync_detailed(
        created.id, client=clerk, body=body, if_match=current.headers["ETag"]
    )
    expect(200, current, f"the clerk moves it to {move.value}")

# 6. The applicant sees the decision.
final = expect(200, get_application.sync_detailed(created.id, client=partner, lang=LangParam.EN), "the applicant reads it again")
if final.phase != Phase.APPROVED or final.public_comment is None:
    sys.exit(f"python example: the applicant sees {final.phase}, comment {final.public_comment}")
tracked = expect(
    200,
    get_application_status.sync_detailed(
        created.reference, client=Client(base_url=GUICHET), x_tracking_code=created.tracking_code
    ),
    "the tracking page again",
)
if tracked.phase != Phase.APPROVED:
    sys.exit(f"python example: the tracking page shows {tracked.phase}")
print(f"python example: done: {created.reference} approved, '{final.public_comment.text}'")
