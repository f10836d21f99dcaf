// The browser's side of tests/formats.json: Ajv 2020 with ajv-formats and guichet-formats.js
// accepts and refuses every value of the table as the server does (src/domain/forms.rs has the
// same test), with each custom format's published pattern (src/domain/formats.json), and the
// forms a live server serves compile in Ajv's strict mode with these formats.
//
//   node check-formats.mjs [GUICHET_URL]
import fs from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { addGuichetFormats } from "./guichet-formats.js";

const read = (path) => JSON.parse(fs.readFileSync(new URL(path, import.meta.url), "utf8"));
const table = read("../../tests/formats.json");
const published = read("../../src/domain/formats.json");

const ajv = new Ajv2020({ allErrors: true });
addFormats(ajv);
addGuichetFormats(ajv);

let checked = 0;
const wrong = [];
for (const [format, cases] of Object.entries(table)) {
  if (format === "_") continue;
  const schema = { type: "string", format };
  if (published[format]) schema.pattern = published[format].pattern;
  const validate = ajv.compile(schema);
  const patternOnly = published[format] ? new RegExp(published[format].pattern, "u") : null;
  for (const v of cases.valid ?? []) {
    if (!validate(v)) wrong.push(`${format}: Ajv refuses ${JSON.stringify(v)}, the server takes it`);
    checked++;
  }
  for (const v of [...(cases.invalid ?? []), ...(cases.shape ?? [])]) {
    if (validate(v)) wrong.push(`${format}: Ajv takes ${JSON.stringify(v)}, the server refuses it`);
    checked++;
  }
  for (const v of cases.shape ?? []) {
    if (patternOnly?.test(v)) wrong.push(`${format}: the published pattern takes ${JSON.stringify(v)}`);
  }
}

// every form a live server serves compiles in Ajv's default (strict) mode
let forms = 0;
const base = process.argv[2];
if (base) {
  const list = await (await fetch(`${base}/v1/services?channel=guichet&limit=100`)).json();
  for (const s of list.data) {
    for (const lang of ["de", "fr"]) {
      const form = await (await fetch(`${base}/v1/services/${s.slug}/form?lang=${lang}`)).json();
      try {
        ajv.compile(form);
        forms++;
      } catch (e) {
        wrong.push(`${s.slug} (${lang}): Ajv strict mode refuses the form: ${e.message}`);
      }
    }
  }
}

if (wrong.length) {
  console.error(`forms example: ${wrong.length} disagreements:\n  ${wrong.join("\n  ")}`);
  process.exit(1);
}
console.log(`forms example: Ajv agrees with the server on ${checked} values of tests/formats.json` +
  (base ? `, and compiles all ${forms} served forms in strict mode` : ""));
