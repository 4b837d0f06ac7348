// Validates an OpenRPC document with the official tooling (@open-rpc/schema-utils-js), the way
// its parseOpenRPCDocument does: the document against the OpenRPC meta-schema, then every $ref
// resolved (#/components/...), then the dereferenced document against the meta-schema again.
//
//   node validate.mjs DOCUMENT.json
//
// Prints one line per problem and exits 1, or prints "valid" and exits 0. Used by tests/openrpc.rs.
import { readFileSync } from "node:fs";
import { dereferenceDocument, validateOpenRPCDocument } from "@open-rpc/schema-utils-js";

const path = process.argv[2];
if (!path) {
  console.error("usage: node validate.mjs DOCUMENT.json");
  process.exit(2);
}
const document = JSON.parse(readFileSync(path, "utf8"));

// One line for an error the library throws, without the schema it dumps after the problem.
const oneLine = (e) =>
  String(e?.message ?? e).split(/\s*(?:schema in question|reference object):/)[0].replace(/\s*\n\s*/g, " ");

// The library reports ajv's errors as JSON inside its message; one line each.
function problems(stage, validate) {
  let result;
  try {
    result = validate();
  } catch (e) {
    return [`${stage}: ${oneLine(e)}`];
  }
  if (result === true) return [];
  const text = String(result.message ?? result);
  const start = text.indexOf("[");
  try {
    return JSON.parse(text.slice(start)).map(
      (e) => `${stage}: ${e.dataPath || "(document)"}: ${e.message}` +
        (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ""),
    );
  } catch {
    return [`${stage}: ${oneLine(text)}`];
  }
}

let found = problems("meta-schema", () => validateOpenRPCDocument(structuredClone(document)));
if (found.length === 0) {
  try {
    const dereferenced = await dereferenceDocument(structuredClone(document));
    found = problems("meta-schema after dereferencing", () => validateOpenRPCDocument(dereferenced));
  } catch (e) {
    found = [`dereferencing: ${oneLine(e)}`];
  }
}
for (const line of found) console.log(line);
if (found.length > 0) process.exit(1);
console.log("valid");
