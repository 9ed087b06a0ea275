/**
 * Writes deploy/rabbitmq/definitions.json from the topology declared in code
 * (libs/messaging/src/topology.ts, loaded as it is), or with --check fails when the committed
 * file differs:
 *   npx node tools/messaging/export-definitions.mts [--check]
 * The unit test apps/analytics/src/topology/definitions.spec.ts makes the same comparison in `npm test`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definitionsFileText } from '../../libs/messaging/src/topology.ts';
import { REPO_ROOT } from '../stack/paths.mts';

const target = join(REPO_ROOT, 'deploy', 'rabbitmq', 'definitions.json');
const text = definitionsFileText();

if (process.argv.includes('--check')) {
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current !== text) {
    process.stderr.write(
      'deploy/rabbitmq/definitions.json differs from the topology in code: ' +
        'run npx node tools/messaging/export-definitions.mts\n',
    );
    process.exit(1);
  }
  process.stdout.write('deploy/rabbitmq/definitions.json matches the topology in code\n');
} else {
  writeFileSync(target, text);
  process.stdout.write('wrote deploy/rabbitmq/definitions.json\n');
}
