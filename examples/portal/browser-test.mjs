// The portal in headless Chromium (Debian's package, driven by puppeteer-core), against a
// running guichet: every `guichet`-channel service's form is rendered in German and in French
// and must show no raw choice code and every object's fields in their authored order; then a
// resident fills the parking card, uploads the vehicle registration through the form's
// document widget, sends it through the generated client, and sees it submitted.
// A screenshot of each page goes to $ARTIFACTS (kept by CI).
//
//   GUICHET=http://127.0.0.1:8080 PORTAL_PORT=8090 PORTAL_CLIENT_ID=gc_... ARTIFACTS=dir \
//     node browser-test.mjs
// GUICHET must allow the portal's origin (GUICHET_CORS_ORIGINS=http://127.0.0.1:$PORTAL_PORT).
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import puppeteer from "puppeteer-core";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`browser test: ${name} is not set`);
  return v;
};
const GUICHET = env("GUICHET");
const PORT = Number(env("PORTAL_PORT"));
const CLIENT_ID = env("PORTAL_CLIENT_ID");
const ARTIFACTS = env("ARTIFACTS");
const HERE = path.dirname(new URL(import.meta.url).pathname);
const LANGS = ["de", "fr"];
fs.mkdirSync(ARTIFACTS, { recursive: true });

function fail(message) {
  console.error(`browser test: FAILED: ${message}`);
  process.exit(1);
}

// The portal's files, served as a static site on its own origin.
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };
const site = http.createServer((req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${PORT}`);
  const file = path.join(HERE, url.pathname === "/" ? "index.html" : url.pathname);
  if (!file.startsWith(HERE) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => site.listen(PORT, "127.0.0.1", resolve));

async function json(url, init) {
  const r = await fetch(url, init);
  if (!r.ok) fail(`${init?.method ?? "GET"} ${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

// The services a resident applies for through guichet.
const services = [];
for (let cursor = null; ; ) {
  const page = await json(`${GUICHET}/v1/services?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
  services.push(...page.data.filter((s) => s.channel === "guichet"));
  if (!page.next_cursor) break;
  cursor = encodeURIComponent(page.next_cursor);
}
if (services.length < 5) fail(`only ${services.length} guichet services`);

/** Every choice code a form declares with a label of its own, and the objects' authored field
 * orders ({"address": ["street", ...]}), from the served schema and UI schema. */
function expectations(schema, ui) {
  const codes = new Set();
  const orders = {};
  const resolve = (s) => (s?.$ref ? schema.$defs?.[s.$ref.split("/").pop()] : s);
  const walk = (s, ui, at) => {
    s = resolve(s);
    if (!s || typeof s !== "object") return;
    for (const choice of s.oneOf ?? []) {
      if (typeof choice.const === "string" && choice.title && choice.title !== choice.const) codes.add(choice.const);
    }
    if (s.type === "object" && s.properties) {
      if (at) orders[at] = ui?.["ui:order"] ?? Object.keys(s.properties);
      for (const [k, v] of Object.entries(s.properties)) walk(v, ui?.[k], at ? `${at}_${k}` : k);
    }
    if (s.items) walk(s.items, ui?.items, at);
  };
  walk(schema, ui, "");
  return { codes, orders };
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // the flags TOOLING.md gives for this machine's closed network
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const portal = (params) => `http://127.0.0.1:${PORT}/?${new URLSearchParams({ api: GUICHET, ...params })}`;

async function open(params) {
  const page = await browser.newPage();
  await page.setViewport({ width: 900, height: 1200 });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(portal(params), { waitUntil: "networkidle0" });
  await page.waitForSelector("form, #failure", { timeout: 15000 });
  const failure = await page.$eval("#failure", (e) => e.textContent).catch(() => null);
  if (failure || errors.length) fail(`${JSON.stringify(params)}: ${failure ?? errors.join("; ")}`);
  return page;
}

let checked = 0;
let labelled = 0; // choices whose labels were looked for
let ordered = 0; // objects whose field order was compared
for (const service of services) {
  for (const lang of LANGS) {
    const schema = await json(`${GUICHET}/v1/services/${service.slug}/form?lang=${lang}`);
    const { form } = await json(`${GUICHET}/v1/services/${service.slug}?lang=${lang}`);
    const { codes, orders } = expectations(schema, form.ui_schema ?? {});
    const page = await open({ service: service.slug, lang });
    // what a resident reads: the choices' and fields' labels
    const shown = await page.$$eval("form option, form label, form legend", (els) =>
      els.map((e) => e.textContent.replace(/\*$/, "").trim()).filter(Boolean),
    );
    const raw = shown.filter((t) => codes.has(t) || /^(true|false|yes|no)$/i.test(t));
    if (raw.length) fail(`${service.slug} (${lang}) shows raw codes: ${raw.join(", ")}`);
    labelled += codes.size;
    // every object's fields in the authored order
    for (const [object, order] of Object.entries(orders)) {
      const ids = await page.$$eval(`[id^="root_${object}_"]`, (els) =>
        els.filter((e) => ["INPUT", "SELECT", "TEXTAREA"].includes(e.tagName)).map((e) => e.id),
      );
      const seen = order.filter((k) => ids.some((id) => id === `root_${object}_${k}` || id.startsWith(`root_${object}_${k}_`)));
      if (seen.length > 1) ordered += 1;
      const positions = seen.map((k) => ids.findIndex((id) => id === `root_${object}_${k}` || id.startsWith(`root_${object}_${k}_`)));
      if (positions.some((p, i) => i > 0 && p < positions[i - 1])) {
        fail(`${service.slug} (${lang}): ${object}'s fields are out of order: ${ids.join(", ")} (authored: ${order.join(", ")})`);
      }
    }
    await page.screenshot({ path: path.join(ARTIFACTS, `${service.slug}-${lang}.png`), fullPage: true });
    await page.close();
    checked += 1;
  }
}
if (labelled < 20 || ordered < 5) fail(`too little was checked: ${labelled} choices, ${ordered} objects`);
console.log(`browser test: ${checked} forms rendered (${services.length} services × ${LANGS.join(", ")}): no raw code among ${labelled} labelled choices, ${ordered} objects in their authored order`);

// A resident applies for the parking card through the portal.
const email = `portal.${Date.now()}@example.ch`;
const password = "Parkkarte-Thun-2027-Seefeld";
const registered = await fetch(`${GUICHET}/v1/accounts`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ email, password, display_name: "Petra Portal" }),
});
if (registered.status !== 202) fail(`registration: ${registered.status}`);
const page = await open({ service: "anwohnerparkkarte", lang: "de", client_id: CLIENT_ID, username: email, password });

/** Chooses the option with this label in a select. */
async function choose(id, label) {
  const value = await page.$eval(`#${id}`, (el, label) => [...el.options].find((o) => o.text.trim() === label)?.value, label);
  if (value === undefined) fail(`#${id} has no option '${label}'`);
  await page.select(`#${id}`, value);
}
async function type(id, text) {
  await page.type(`#${id}`, text);
}
await choose("root_applicant_type", "Anwohner/in");
await type("root_last_name", "Portal");
await type("root_first_name", "Petra");
await type("root_address_street", "Hofstettenstrasse");
await type("root_address_house_number", "14");
await type("root_address_postal_code", "3600");
await type("root_address_city", "Thun");
await choose("root_zone", "Seefeld / Bahnhof (SB)");
await type("root_license_plate", "BE 123456");
// a date input takes its value as the page sets it (typing follows the browser's locale)
await page.$eval("#root_valid_from", (el) => {
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(el, "2027-03-01");
  el.dispatchEvent(new Event("input", { bubbles: true }));
});
await choose("root_duration", "1 Monat");
await type("root_email", email);
const pdf = path.join(ARTIFACTS, "fahrzeugausweis.pdf");
fs.writeFileSync(pdf, "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
const input = await page.$("#root_vehicle_registration");
await input.uploadFile(pdf);
await page.waitForFunction(() => document.querySelector(".uploaded")?.dataset.document?.length === 36, { timeout: 15000 });
await page.screenshot({ path: path.join(ARTIFACTS, "anwohnerparkkarte-filled.png"), fullPage: true });
await page.click("button[type=submit]");
await page.waitForSelector("#status, #failure, .errors", { timeout: 15000 });
const status = await page.$eval("#status", (e) => ({ phase: e.dataset.phase, reference: e.dataset.reference, text: e.textContent })).catch(() => null);
await page.screenshot({ path: path.join(ARTIFACTS, "anwohnerparkkarte-submitted.png"), fullPage: true });
if (!status) {
  const why = await page.$$eval("#failure, .errors li", (els) => els.map((e) => e.textContent).join("; "));
  fail(`the parking card was not submitted: ${why}`);
}
if (status.phase !== "submitted" || !/^THU-\d{4}-/.test(status.reference)) fail(`status: ${JSON.stringify(status)}`);
console.log(`browser test: the parking card submitted through the portal: ${status.text}`);

await browser.close();
site.close();
