import type { BindingSpec } from '@taskit/messaging/topology';

/**
 * RabbitMQ's management API, when the optional rabbitmq_management plugin answers: the
 * doctor reads bindings and unacked counts from it (GET only). Without it, AMQP passive
 * declares give ready messages and consumers, and rabbitmqctl lists a local broker's bindings.
 */
export interface ManagementApi {
  bindings(vhost: string): Promise<BindingSpec[]>;
  unacked(vhost: string, queue: string): Promise<number>;
}

export async function managementApi(baseUrl: string): Promise<ManagementApi | undefined> {
  if (!baseUrl) return undefined;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return undefined;
  }
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  url.username = '';
  url.password = '';
  const root = url.toString().replace(/\/$/, '');
  const get = async (path: string): Promise<unknown> => {
    const response = await fetch(`${root}/api${path}`, {
      headers: { authorization: auth },
      signal: AbortSignal.timeout(2_000),
    });
    if (!response.ok) throw new Error(`management API ${path}: ${response.status}`);
    return response.json();
  };
  try {
    await get('/overview');
  } catch {
    return undefined;
  }
  const v = (vhost: string) => encodeURIComponent(vhost);
  return {
    async bindings(vhost) {
      const rows = (await get(`/bindings/${v(vhost)}`)) as {
        source: string;
        destination: string;
        destination_type: string;
        routing_key: string;
      }[];
      return rows
        .filter((r) => r.destination_type === 'queue' && r.source !== '')
        .map((r) => ({ exchange: r.source, queue: r.destination, routingKey: r.routing_key }));
    },
    async unacked(vhost, queue) {
      const row = (await get(`/queues/${v(vhost)}/${encodeURIComponent(queue)}`)) as {
        messages_unacknowledged?: number;
      };
      return row.messages_unacknowledged ?? 0;
    },
  };
}
