// guichet's custom formats in JavaScript: the reference implementation of what the server
// checks (src/domain/forms.rs), for a browser that validates a form before sending it. With
// Ajv 2020 and ajv-formats (for `email`, `date`, ...):
//
//   import Ajv2020 from "ajv/dist/2020.js";
//   import addFormats from "ajv-formats";
//   import { addGuichetFormats } from "./guichet-formats.js";
//   const ajv = new Ajv2020({ allErrors: true });
//   addFormats(ajv);
//   addGuichetFormats(ajv);
//
// The patterns every served form carries for these formats are in src/domain/formats.json;
// the table of values both sides must agree on is tests/formats.json (examples/run checks it).

/** Swiss social security number 756.1234.5678.97: EAN-13 check digit. */
export function isAhvNumber(s) {
  if (!/^756\.[0-9]{4}\.[0-9]{4}\.[0-9]{2}$/.test(s)) return false;
  const d = s.replaceAll(".", "").split("").map(Number);
  const sum = d.slice(0, 12).reduce((acc, x, i) => acc + (i % 2 === 0 ? x : 3 * x), 0);
  return (10 - (sum % 10)) % 10 === d[12];
}

/** Swiss enterprise identification number CHE-123.456.789: modulo 11 with weights 5 4 3 2 7 6 5 4. */
export function isUid(s) {
  if (!/^CHE-[0-9]{3}\.[0-9]{3}\.[0-9]{3}$/.test(s)) return false;
  const d = s.slice(4).replaceAll(".", "").split("").map(Number);
  const weights = [5, 4, 3, 2, 7, 6, 5, 4];
  const sum = weights.reduce((acc, w, i) => acc + w * d[i], 0);
  const check = (11 - (sum % 11)) % 11;
  return check !== 10 && check === d[8];
}

/** Swiss postal code: 1000 to 9699, or Liechtenstein's 9485 to 9498. */
export function isChPostalCode(s) {
  if (!/^[0-9]{4}$/.test(s)) return false;
  const n = Number(s);
  return (n >= 1000 && n <= 9699) || (n >= 9485 && n <= 9498);
}

const IBAN_LENGTHS = {
  CH: 21, LI: 21, AD: 24, AT: 20, BE: 16, BG: 22, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20, ES: 24,
  FI: 18, FR: 27, GB: 22, GI: 23, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26, IT: 27, LT: 20, LU: 20,
  LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24, SE: 24, SI: 19, SK: 24, SM: 27,
};

/** IBAN of Switzerland, Liechtenstein or a SEPA country (spaces and case ignored): ISO 13616 mod 97. */
export function isIban(s) {
  const c = s.replaceAll(" ", "").toUpperCase();
  if (c.length < 15 || !/^[A-Z0-9]+$/.test(c)) return false;
  if (IBAN_LENGTHS[c.slice(0, 2)] !== c.length || !/^[0-9]{2}$/.test(c.slice(2, 4))) return false;
  let rem = 0;
  for (const ch of c.slice(4) + c.slice(0, 4)) {
    const v = parseInt(ch, 36);
    rem = v < 10 ? (rem * 10 + v) % 97 : (rem * 100 + v) % 97;
  }
  return rem === 1;
}

/** A phone number as people type it, in E.164 (`+41332258498`), or null: what the server stores. */
export function phoneE164(s) {
  if (s.length > 30 || !/^[0-9 ()/.+-]*$/.test(s) || (s.match(/\+/g) ?? []).length > 1) return null;
  const plus = s.trimStart().startsWith("+");
  if (s.includes("+") && !plus) return null;
  // `+41 (0)33 ...`: the trunk zero in brackets after a country code is not dialled
  const at = s.indexOf("(0)");
  if (at >= 0 && (plus || s.trimStart().startsWith("00"))) s = s.slice(0, at) + s.slice(at + 3);
  const digits = s.replace(/[^0-9]/g, "");
  let international;
  if (plus) international = digits;
  else if (digits.startsWith("00")) international = digits.slice(2);
  else if (digits.startsWith("0")) international = "41" + digits.slice(1);
  else return null;
  const ok = international.length >= 8 && international.length <= 15 && !international.startsWith("0");
  const swissOk = !international.startsWith("41") || international.length === 11;
  return ok && swissOk ? "+" + international : null;
}

/** A document's id: a UUID in hex with hyphens (either case). */
export function isDocumentId(s) {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s);
}

/** The formats by the names forms use, for Ajv (`ajv.addFormat`) or RJSF (`customFormats`). */
export const guichetFormats = {
  "ahv-number": isAhvNumber,
  uid: isUid,
  "che-uid": isUid,
  "ch-postal-code": isChPostalCode,
  iban: isIban,
  phone: (s) => phoneE164(s) !== null,
  "document-id": isDocumentId,
};

/** Adds guichet's formats to an Ajv instance; returns it. */
export function addGuichetFormats(ajv) {
  for (const [name, validate] of Object.entries(guichetFormats)) {
    ajv.addFormat(name, { type: "string", validate });
  }
  return ajv;
}
