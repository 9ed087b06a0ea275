/**
 * `npm run doctor [-- --json] [-- --probe]` (docs/operations.md, The doctor), also built into the
 * gateway image: `kubectl -n taskit exec deploy/gateway -- node dist/apps/doctor/src/main.js`.
 * Exit 0 when every hop is healthy, 1 when any is broken, 2 when it could not run.
 */
import { errorMessage } from './check';
import { runDoctor } from './doctor';
import { renderJson, renderText } from './report';
import { loadSettings } from './settings';

const USAGE = `usage: doctor [--json] [--probe] [--probe-timeout <seconds>]
Settings come from the environment, as the services read them: MONGODB_URI, RABBITMQ_URL,
INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG, INFLUX_BUCKET, GATEWAY_URL, ANALYTICS_URL,
RABBITMQ_MANAGEMENT_URL, TELEGRAF_CONFIG, DOCTOR_OUTBOX_MAX_AGE_SECONDS; unset ones default
to the npm run up stack. INFLUX_URL, GATEWAY_URL or ANALYTICS_URL = none skips that hop.
`;

async function main(argv: string[]): Promise<number> {
  const options = { json: false, probe: false, probeTimeoutMs: 15_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') options.json = true;
    else if (arg === '--probe') options.probe = true;
    else if (arg === '--probe-timeout' && Number(argv[i + 1]) > 0)
      options.probeTimeoutMs = Number(argv[++i]) * 1000;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else {
      process.stderr.write(`doctor: unknown argument ${arg}\n${USAGE}`);
      return 2;
    }
  }
  const checks = await runDoctor(loadSettings(), options);
  process.stdout.write(
    options.json ? renderJson(checks) : renderText(checks, process.stdout.isTTY === true),
  );
  return checks.every((c) => c.ok) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`doctor could not run: ${errorMessage(error)}\n`);
    process.exitCode = 2;
  },
);
