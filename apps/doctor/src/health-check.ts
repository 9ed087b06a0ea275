import { errorMessage, fail, fetchWithin, pass, type Check } from './check';

interface Readiness {
  status?: string;
  checks?: Record<string, { status: string; error?: string }>;
}

const NEXT: Record<'gateway' | 'analytics', string> = {
  gateway: 'tail .run/logs/gateway.log (Kubernetes: kubectl -n taskit logs deploy/gateway)',
  analytics: 'tail .run/logs/analytics.log (Kubernetes: kubectl -n taskit logs deploy/analytics)',
};

/** `/health/ready` of a service, naming the dependency that fails. */
export async function checkHealth(
  service: 'gateway' | 'analytics',
  url: string | undefined,
): Promise<Check> {
  if (!url) return pass('health', service, 'skipped (URL set to none)');
  let response: Response;
  try {
    response = await fetchWithin(`${url}/health/ready`, 3_000);
  } catch (error) {
    return fail(
      'health',
      service,
      `not reachable at ${url}: ${errorMessage(error)}`,
      `The ${service === 'gateway' ? 'gateway' : 'analytics service'} is not running: start it (npm run up) or ${NEXT[service]}; set ${service.toUpperCase()}_URL if it listens elsewhere.`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as Readiness;
  const down = Object.entries(body.checks ?? {}).filter(([, c]) => c.status !== 'up');
  if (response.status === 200) {
    return pass('health', service, `ready (${Object.keys(body.checks ?? {}).join(', ')} up)`);
  }
  const failing = down.map(([name, c]) => `${name}: ${c.error ?? 'down'}`).join('; ');
  return fail(
    'health',
    service,
    `not ready (${response.status}): ${failing || 'draining or unknown'}`,
    `${down.map(([name]) => name).join(' and ') || 'A dependency'} cannot be used by the ${service}: see the checks below, then ${NEXT[service]}.`,
  );
}
