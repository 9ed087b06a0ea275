/**
 * Writes deploy/rabbitmq/definitions.json from the topology declared in code
 * (libs/messaging/src/topology.ts), or with --check fails when the committed file differs.
 * It loads the compiled library, so run `npm run build` first:
 *   node tools/messaging/export-definitions.mts [--check]
 * The unit test apps/analytics/src/topology/definitions.spec.ts makes the same comparison in `npm test`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const compiled = join(root, 'dist', 'libs', 'messaging', 'src', 'topology.js');
const target = join(root, 'deploy', 'rabbitmq', 'definitions.json');

if (!existsSync(compiled)) {
  process.stderr.write(`${compiled} is missing: run "npm run build" first\n`);
  process.exit(1);
}
const { definitionsFileText } = createRequire(import.meta.url)(compiled) as {
  definitionsFileText: () => string;
};
const text = definitionsFileText();

if (process.argv.includes('--check')) {
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current !== text) {
    process.stderr.write(
      'deploy/rabbitmq/definitions.json differs from the topology in code: ' +
        'run node tools/messaging/export-definitions.mts\n',
    );
    process.exit(1);
  }
  process.stdout.write('deploy/rabbitmq/definitions.json matches the topology in code\n');
} else {
  writeFileSync(target, text);
  process.stdout.write('wrote deploy/rabbitmq/definitions.json\n');
}
