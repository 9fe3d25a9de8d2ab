// Validates Kubernetes manifests offline against the Kubernetes OpenAPI schemas that the npm
// package kubernetes-models carries (a JSON-schema check per object: types, required fields,
// unknown fields). Usage: node .ci/validate-kubernetes.mjs FILE.yaml...
// Needs kubernetes-models and yaml in ./node_modules or in $KUBERNETES_VALIDATE_MODULES
// (.ci/containers installs them there).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.KUBERNETES_VALIDATE_MODULES ?? join(process.cwd(), "node_modules");
const require = createRequire(join(modules, "noop.js"));
const { parseAllDocuments } = require("yaml");

let failures = 0;
let objects = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length > 0) {
      console.error(`${file}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      failures++;
      continue;
    }
    const object = doc.toJS();
    if (object === null) continue;
    const name = `${file}: ${object.kind} ${object.metadata?.name}`;
    const group = object.apiVersion.includes("/") ? object.apiVersion : `v1`;
    let model;
    try {
      const path = join(modules, "kubernetes-models", group, `${object.kind}.js`);
      model = (await import(pathToFileURL(path).href))[object.kind];
    } catch {
      console.error(`${name}: no schema for apiVersion=${object.apiVersion} kind=${object.kind}`);
      failures++;
      continue;
    }
    try {
      new model(object).validate();
      objects++;
      console.log(`ok ${name}`);
    } catch (error) {
      console.error(`${name}: ${error.message}`);
      failures++;
    }
  }
}
console.log(`kubernetes manifests: ${objects} valid, ${failures} invalid`);
process.exit(failures === 0 ? 0 : 1);
