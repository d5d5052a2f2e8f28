// Supplies the one field Envoy's protos use that the bundled protoc-gen-validate lacks.
//
// @grpc/grpc-js-xds ships data-plane-api as of Envoy 1.31 next to an older validate.proto that
// has no `StringRules.ignore_empty` (field 26). buf refuses the Envoy files without it, so the
// build copies the dependency's validate.proto into proto/.deps (git-ignored) with that one
// field added. Nothing from the dependency is committed.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const xdsDir = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
const source = join(xdsDir, 'deps/protoc-gen-validate/validate/validate.proto');
const text = readFileSync(source, 'utf8');

const start = text.indexOf('message StringRules {');
if (start < 0) throw new Error(`gen-validate: no StringRules in ${source}`);
let patched = text;
if (!/ignore_empty\s*=\s*26/.test(text.slice(start, text.indexOf('\n}', start)))) {
  const insertAt = start + 'message StringRules {'.length;
  patched =
    text.slice(0, insertAt) +
    '\n    // Added by meshward\'s build (newer protoc-gen-validate has it; Envoy 1.31 uses it).\n' +
    '    optional bool ignore_empty = 26;\n' +
    text.slice(insertAt);
}
const outDir = join(root, 'proto/.deps/pgv/validate');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'validate.proto'), patched);

// buf only reads modules inside the folder of its buf.yaml, so the dependency's proto roots are
// linked into proto/.deps (buf follows symbolic links).
for (const name of ['envoy-api', 'xds', 'googleapis']) {
  const link = join(root, 'proto/.deps', name);
  rmSync(link, { force: true, recursive: true });
  symlinkSync(relative(dirname(link), join(xdsDir, 'deps', name)), link, 'dir');
}
