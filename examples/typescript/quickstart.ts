// docs/QUICKSTART.md's partner path through a client generated from guichet's OpenAPI document
// (openapi-typescript for the types, openapi-fetch for the calls): no hand-written HTTP, every
// path, parameter and body is checked by `tsc --strict` against the document.
//
//   npm run generate && npm run check && npm run build && npm start
//
// Environment: GUICHET (the server's URL), CLIENT_ID and CLIENT_SECRET (the partner's client,
// from `guichet organisation create`), CLERK_EMAIL and CLERK_PASSWORD (a clerk of the
// Polizeiinspektorat, from `guichet user create --role clerk`), and IDEMPOTENCY_KEY (any fresh
// key; one per application). examples/run sets them all up against a fresh server.
//
// What it does, as a fiduciary's software would:
//  1. gets a token (OAuth 2.0 client credentials);
//  2. finds the residents' and business parking permit in the catalogue and reads its form;
//  3. creates and submits the application with the vehicle registration in one call, with an
//     Idempotency-Key, and sends the very same request again: one application;
//  4. reads the status as the applicant and on the public tracking page;
//  5. a clerk signs in, reads the document, and approves the application (two moves, each with
//     the application's ETag in If-Match);
//  6. the applicant sees the approval, with the clerk's public comment.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/v1.js";

type Schemas = components["schemas"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`typescript example: ${name} is not set`);
  return value;
}

const GUICHET = env("GUICHET");
// A PDF as a scanner writes it (the server checks the bytes are what the part declares).
const REGISTRATION = new TextEncoder().encode("%PDF-1.7\n% Fahrzeugausweis BE 123456, scanned\n%%EOF\n");

function fail(message: string): never {
  console.error(`typescript example: ${message}`);
  process.exit(1);
}

/** The answer's status is the documented one and it has a body, else stop with what the server said. */
function expect<T>(status: number, r: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (r.response.status !== status || r.data === undefined) {
    fail(`${what}: ${r.response.status} ${JSON.stringify(r.error)}`);
  }
  console.log(`typescript example: ${what}: ${r.response.status}`);
  return r.data;
}

const publicApi = createClient<paths>({ baseUrl: GUICHET });
const FORM = { "Content-Type": "application/x-www-form-urlencoded" } as const;

async function token(body: Schemas["TokenRequest"]): Promise<string> {
  const r = await publicApi.POST("/v1/oauth/token", { body, headers: FORM });
  return expect(200, r, `token (${body.grant_type})`).access_token;
}

function asBearer(accessToken: string) {
  return createClient<paths>({ baseUrl: GUICHET, headers: { Authorization: `Bearer ${accessToken}` } });
}

/**
 * The multipart body as the document's `encoding` says: `application` as JSON, each file a
 * `documents` part. (openapi-fetch serialises JSON itself and leaves multipart to the caller.)
 */
function multipart(body: Schemas["NewApplication"] | Schemas["ApplicationWithDocuments"]): FormData {
  if (!("application" in body)) throw new Error("a multipart body has its application part");
  const form = new FormData();
  form.append("application", new Blob([JSON.stringify(body.application)], { type: "application/json" }));
  for (const file of body.documents ?? []) {
    form.append("documents", file);
  }
  return form;
}

// 1. The partner's token.
const partner = asBearer(
  await token({ grant_type: "client_credentials", client_id: env("CLIENT_ID"), client_secret: env("CLIENT_SECRET") }),
);

// 2. The parking permit, found by a search as a person would, and its form.
const found = expect(
  200,
  await partner.GET("/v1/services", { params: { query: { q: "parking", lang: "en" } } }),
  "search the catalogue",
);
const slugs = found.data.map((s) => s.slug);
if (!slugs.includes("anwohnerparkkarte")) fail(`the search did not find the parking permit: ${slugs.join(", ")}`);
const form = expect(
  200,
  await partner.GET("/v1/services/{service}/form", {
    params: { path: { service: "anwohnerparkkarte" }, query: { lang: "en" } },
  }),
  "read its form",
);
const required = form["required"];
if (!Array.isArray(required) || !required.includes("vehicle_registration")) {
  fail("the form does not ask for the vehicle registration");
}

// 3. Create and submit with the document, twice with the same key.
const application: Schemas["NewApplication"] = {
  service: "anwohnerparkkarte",
  submit: true,
  data: {
    applicant_type: "business",
    last_name: "Muster",
    first_name: "Anna",
    company_name: "Muster Haustechnik AG",
    address: { street: "Bälliz", house_number: "10", postal_code: "3600", city: "Thun" },
    zone: "seefeld_bahnhof_SB",
    license_plate: "BE 123456",
    valid_from: "2027-03-01",
    duration: "6_months",
    vehicle_registration: "fahrzeugausweis.pdf",
    email: "anna.muster@example.ch",
  },
};
const key = env("IDEMPOTENCY_KEY");
const send = () =>
  partner.POST("/v1/applications", {
    params: { header: { "Idempotency-Key": key } },
    body: {
      application,
      documents: [new File([REGISTRATION], "fahrzeugausweis.pdf", { type: "application/pdf" })],
    },
    bodySerializer: multipart,
  });
const created = expect(201, await send(), "create and submit with the document");
const again = await send();
const replayed = expect(201, again, "the same request again");
if (replayed.id !== created.id || again.response.headers.get("Idempotent-Replayed") !== "true") {
  fail(`the retry made another application (${created.id}, ${replayed.id})`);
}
const mine = expect(200, await partner.GET("/v1/applications"), "list the partner's applications");
if (mine.data.length !== 1 || mine.data[0]?.id !== created.id) fail(`the partner has ${mine.data.length} applications, not one`);
const documentId = created.data["vehicle_registration"];
if (typeof documentId !== "string") fail("the file field holds no document id");
console.log(`typescript example: ${created.reference} is ${created.phase}, the registration is document ${documentId}`);
const reference = created.reference ?? fail("a submitted application has a reference");
const trackingCode = created.tracking_code ?? fail("a submitted application has a tracking code");
const track = async () =>
  expect(
    200,
    await publicApi.GET("/v1/status/{reference}", {
      params: { path: { reference }, header: { "X-Tracking-Code": trackingCode }, query: { lang: "en" } },
    }),
    "read the tracking page",
  );

// 4. The status, as the applicant and on the tracking page (no token, the tracking code).
const byId = { params: { path: { id: created.id } } };
const seen = expect(200, await partner.GET("/v1/applications/{id}", byId), "read it as the applicant");
const tracked = await track();
if (seen.phase !== "submitted" || tracked.phase !== "submitted") {
  fail(`submitted, but seen as ${seen.phase} and tracked as ${tracked.phase}`);
}

// 5. The clerk reads the document and approves.
const clerk = asBearer(await token({ grant_type: "password", username: env("CLERK_EMAIL"), password: env("CLERK_PASSWORD") }));
const scan = expect(
  200,
  await clerk.GET("/v1/applications/{id}/documents/{document_id}/content", {
    params: { path: { id: created.id, document_id: documentId } },
    parseAs: "arrayBuffer",
  }),
  "the clerk downloads the document",
);
if (Buffer.compare(Buffer.from(scan), Buffer.from(REGISTRATION)) !== 0) fail("the downloaded document is not the one sent");
let current = await clerk.GET("/v1/applications/{id}", byId);
let opened = expect(200, current, "the clerk opens the application");
for (const move of ["in_review", "approved"] as const) {
  if (!opened.allowed_moves.includes(move)) fail(`the clerk may not move it to ${move}: ${opened.allowed_moves.join(", ")}`);
  const etag = current.response.headers.get("ETag") ?? fail("the application has no ETag");
  const body: Schemas["TransitionInput"] = { to: move };
  if (move === "approved") body.public_comment = "Ihre Parkkarte ist ab dem 1. März 2027 gültig.";
  current = await clerk.POST("/v1/applications/{id}/transitions", {
    params: { path: { id: created.id }, header: { "If-Match": etag } },
    body,
  });
  opened = expect(200, current, `the clerk moves it to ${move}`);
}

// 6. The applicant sees the decision.
const decided = expect(200, await partner.GET("/v1/applications/{id}", byId), "the applicant reads it again");
if (decided.phase !== "approved" || !decided.public_comment) {
  fail(`the applicant sees ${decided.phase}, comment ${JSON.stringify(decided.public_comment)}`);
}
const trackedAgain = await track();
if (trackedAgain.phase !== "approved") fail(`the tracking page shows ${trackedAgain.phase}`);
console.log(`typescript example: done: ${reference} approved, '${decided.public_comment.text}'`);
