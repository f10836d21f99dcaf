// Generates the TypeScript types of guichet's API from openapi/v1.json (openapi-typescript's
// Node API), into generated/v1.ts. One option beyond the defaults, from openapi-typescript's
// documentation: a file (`format: binary`) is typed as a Blob, which is what FormData takes;
// without it a file would be a string.
import fs from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const source = new URL(process.argv[2] ?? "../../openapi/v1.json", import.meta.url);
const ast = await openapiTS(source, {
  transform(schema) {
    if (schema.format === "binary") {
      return BLOB;
    }
    return undefined;
  },
});
fs.mkdirSync(new URL("./generated/", import.meta.url), { recursive: true });
fs.writeFileSync(new URL("./generated/v1.ts", import.meta.url), astToString(ast));
console.log("typescript example: generated/v1.ts from", source.pathname);
