// Validates an AsyncAPI document with the official parser (@asyncapi/parser, the one AsyncAPI
// Studio and the generators use): prints `valid`, or one line per error, and exits non-zero.
//   node validate.mjs FILE
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';

const file = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, 'utf8'));
// Severity 0 is an error; warnings (1) and hints are shown but do not fail.
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of diagnostics.filter((x) => x.severity !== 0)) {
  console.error(`warning ${d.code}: ${d.message} at ${d.path.join('.')}`);
}
if (errors.length || !document) {
  for (const d of errors) console.log(`${d.code}: ${d.message} at ${d.path.join('.')}`);
  process.exit(1);
}
const channels = document.channels().all().map((c) => c.address());
const operations = document.operations().all().length;
console.log('valid');
console.error(`${channels.length} channels (${channels.join(', ')}), ${operations} operations`);
