// A small resident portal on guichet, as a frontend team would start one: a service's form
// rendered with react-jsonschema-form (RJSF 6) from what guichet serves, validated in the
// browser with Ajv 2020 and guichet's formats (docs/FORMS.md), documents uploaded through the
// form's `document` widget, the application sent through the client generated from guichet's
// OpenAPI document (openapi-fetch on openapi-typescript's types), and its status shown.
//
// index.html?api=URL&service=SLUG&lang=de            the form, in one language
//   ...&client_id=ID&username=EMAIL&password=PW       also sign in (a public client's password
//                                                     grant), make a draft, and let it be sent
import { createElement as h, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import Form from "@rjsf/core";
import type { RJSFSchema, UiSchema, WidgetProps } from "@rjsf/utils";
import { customizeValidator } from "@rjsf/validator-ajv8";
import Ajv2020 from "ajv/dist/2020.js";
import createClient from "openapi-fetch";
import type { components, paths } from "../../typescript/generated/v1.js";
import { guichetFormats } from "../../forms/guichet-formats.js";

type Schemas = components["schemas"];
type Lang = "de" | "fr" | "it" | "en";
type Api = ReturnType<typeof createClient<paths>>;

const query = new URLSearchParams(location.search);
const API = query.get("api") ?? location.origin;
const SERVICE = query.get("service") ?? "anwohnerparkkarte";
const LANG = (query.get("lang") ?? "de") as Lang;

/** The one thing a widget needs from the page: where a chosen file goes. */
interface Uploads {
  upload(file: File): Promise<Schemas["Document"]>;
}

const validator = customizeValidator({ AjvClass: Ajv2020, customFormats: guichetFormats });

/** A field of `format: document-id`: a file input; the chosen file is uploaded to the draft and
 * the field holds the new document's id. `options` come from guichet's UI schema. */
function DocumentWidget(props: WidgetProps) {
  const [name, setName] = useState<string>("");
  const [problem, setProblem] = useState<string>("");
  const uploads = props.registry.formContext as Uploads | undefined;
  const accept = typeof props.options.accept === "string" ? props.options.accept : undefined;
  const maxBytes = typeof props.options.maxBytes === "number" ? props.options.maxBytes : Infinity;
  return h("div", { className: "document" }, [
    h("input", {
      key: "input",
      id: props.id,
      type: "file",
      accept,
      disabled: props.disabled || props.readonly || !uploads,
      onChange: async (e: { target: HTMLInputElement }) => {
        const file = e.target.files?.[0];
        if (!file || !uploads) return;
        if (file.size > maxBytes) {
          setProblem(`> ${maxBytes} bytes`);
          return;
        }
        try {
          const document = await uploads.upload(file);
          setName(file.name);
          setProblem("");
          props.onChange(document.id);
        } catch (err) {
          setProblem(String(err));
        }
      },
    }),
    h("span", { key: "name", className: "uploaded", "data-document": props.value ?? "" }, name),
    problem ? h("span", { key: "problem", className: "upload-problem" }, problem) : null,
  ]);
}

function expect<T>(status: number, r: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (r.response.status !== status || r.data === undefined) {
    throw new Error(`${what}: ${r.response.status} ${JSON.stringify(r.error)}`);
  }
  return r.data;
}

/** Signs in as a resident through the portal's public client, and makes the draft the form
 * fills. Answers the signed-in client and the draft's id. */
async function draft(): Promise<{ api: Api; id: string } | null> {
  const client_id = query.get("client_id");
  const username = query.get("username");
  const password = query.get("password");
  if (!client_id || !username || !password) return null;
  const anonymous = createClient<paths>({ baseUrl: API });
  const token = expect(
    200,
    await anonymous.POST("/v1/oauth/token", {
      body: { grant_type: "password", client_id, username, password, scope: "applications:read applications:write" },
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
    "sign in",
  );
  const api = createClient<paths>({
    baseUrl: API,
    headers: { Authorization: `Bearer ${token.access_token}`, "Accept-Language": LANG },
  });
  const created = expect(201, await api.POST("/v1/applications", { body: { service: SERVICE } }), "draft");
  return { api, id: created.id };
}

/** The application's current ETag, for a change (`If-Match`). */
async function etagOf(api: Api, id: string): Promise<string> {
  const r = await api.GET("/v1/applications/{id}", { params: { path: { id } } });
  expect(200, r, "read the draft");
  return r.response.headers.get("ETag") ?? "";
}

function Status(props: { application: Schemas["Application"] }) {
  const a = props.application;
  return h("output", { id: "status", "data-phase": a.phase, "data-reference": a.reference ?? "" }, [
    h("strong", { key: "ref" }, a.reference ?? ""),
    " ",
    h("span", { key: "step" }, a.step.label),
  ]);
}

function Portal() {
  const [schema, setSchema] = useState<RJSFSchema | null>(null);
  const [ui, setUi] = useState<UiSchema>({});
  const [title, setTitle] = useState("");
  const [session, setSession] = useState<{ api: Api; id: string } | null>(null);
  const [done, setDone] = useState<Schemas["Application"] | null>(null);
  const [failure, setFailure] = useState("");

  useEffect(() => {
    (async () => {
      const api = createClient<paths>({ baseUrl: API });
      const params = { path: { service: SERVICE }, query: { lang: LANG } };
      const service = expect(200, await api.GET("/v1/services/{service}", { params }), "service");
      const form = expect(200, await api.GET("/v1/services/{service}/form", { params }), "form");
      setTitle(typeof service.name === "string" ? service.name : service.name.de);
      setUi((service.form.ui_schema ?? {}) as UiSchema);
      setSession(await draft());
      setSchema(form as RJSFSchema);
    })().catch((e) => setFailure(String(e)));
  }, []);

  if (failure) return h("p", { id: "failure" }, failure);
  if (!schema) return h("p", { id: "loading" }, "…");
  if (done) return h(Status, { application: done });
  const uploads: Uploads | undefined = session
    ? {
        async upload(file: File) {
          const { api, id } = session;
          const r = await api.POST("/v1/applications/{id}/documents", {
            params: { path: { id } },
            body: { file },
            bodySerializer(body: { file: Blob }) {
              const form = new FormData();
              form.append("file", body.file, file.name);
              return form;
            },
          });
          return expect(201, r, "upload");
        },
      }
    : undefined;
  return h("main", null, [
    h("h1", { key: "title" }, title),
    h(Form, {
      key: "form",
      schema,
      uiSchema: { ...ui, "ui:submitButtonOptions": { norender: !session } },
      validator,
      widgets: { document: DocumentWidget },
      formContext: uploads,
      noHtml5Validate: true,
      onSubmit: async ({ formData }) => {
        if (!session) return;
        const { api, id } = session;
        try {
          const patched = await api.PATCH("/v1/applications/{id}", {
            params: { path: { id }, header: { "If-Match": await etagOf(api, id) } },
            body: { data: formData as Record<string, unknown> },
            headers: { "Content-Type": "application/merge-patch+json" },
          });
          expect(200, patched, "save");
          const submitted = await api.POST("/v1/applications/{id}/submit", {
            params: { path: { id }, header: { "If-Match": patched.response.headers.get("ETag") ?? "" } },
          });
          expect(200, submitted, "submit");
          const read = await api.GET("/v1/applications/{id}", { params: { path: { id }, query: { lang: LANG } } });
          setDone(expect(200, read, "status"));
        } catch (e) {
          setFailure(String(e));
        }
      },
    }),
  ]);
}

createRoot(document.getElementById("portal")!).render(h(Portal));
