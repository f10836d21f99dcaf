// Bundles src/portal.tsx for the browser (esbuild), into dist/portal.js. esbuild only strips
// the types: `tsc --strict --noEmit` (npm run check) checks them.
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: [new URL("./src/portal.tsx", import.meta.url).pathname],
  bundle: true,
  format: "iife",
  target: "es2022",
  outfile: new URL("./dist/portal.js", import.meta.url).pathname,
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
console.log("portal: dist/portal.js");
