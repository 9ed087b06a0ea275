import { errorMessage, fail, fetchWithin, pass, type Check } from './check';
import { labelOf, scrape } from './metrics-text';

const NEXT: Record<'gateway' | 'analytics', string> = {
  gateway: 'tail .run/logs/gateway.log (Kubernetes: kubectl -n taskit logs deploy/gateway)',
  analytics: 'tail .run/logs/analytics.log (Kubernetes: kubectl -n taskit logs deploy/analytics)',
};

/**
 * `/health/ready` of a service (the status only), with the dependencies it cannot reach read
 * from its `taskit_dependency_up` metric. A degraded service is ready but not healthy: it
 * fails this check, naming what it misses (docs/operations.md, Readiness).
 */
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
  const { status } = (await response.json().catch(() => ({}))) as { status?: string };
  const dependencies = (await scrape(url)).filter((s) => s.name === 'taskit_dependency_up');
  const down = dependencies
    .filter((s) => s.value === 0)
    .map((s) => labelOf(s.labels, 'dependency'));
  if (status === 'ok') {
    const up = dependencies.map((s) => labelOf(s.labels, 'dependency'));
    return pass('health', service, up.length > 0 ? `ready (${up.join(', ')} up)` : 'ready');
  }
  const missing = down.length > 0 ? down.join(' and ') : 'a dependency (metrics unreadable)';
  const verdict =
    status === 'degraded'
      ? `ready but degraded: ${missing} down`
      : status === 'shutting_down'
        ? 'shutting down'
        : `not ready (${response.status}): ${missing} down`;
  return fail(
    'health',
    service,
    verdict,
    status === 'shutting_down'
      ? `The ${service} is draining after SIGTERM; a new one takes over.`
      : `${missing} cannot be used by the ${service}: the reason is in its log (${NEXT[service]}); see the checks below.`,
  );
}
