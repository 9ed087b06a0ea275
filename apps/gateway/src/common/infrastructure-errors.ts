/**
 * Errors that mean a backing service (Redis, MongoDB) cannot answer right now: the client gets
 * 503 Service Unavailable, never a 500 and never a hang.
 */
const UNAVAILABLE_NAMES = new Set([
  // node-redis
  'ClientClosedError',
  'ClientOfflineError',
  'DisconnectsClientError',
  'ConnectionTimeoutError',
  'SocketClosedUnexpectedlyError',
  'SocketTimeoutError',
  'ReconnectStrategyError',
  'CommandTimeoutDuringMaintenanceError',
  'TimeoutError',
  // MongoDB driver
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongooseServerSelectionError',
]);

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);

export function isServiceUnavailableError(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    if (typeof current !== 'object') return false;
    const { name, code, cause } = current as { name?: unknown; code?: unknown; cause?: unknown };
    // node-redis errors keep the name "Error": their class tells what happened.
    const className = (current as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && UNAVAILABLE_NAMES.has(name)) return true;
    if (typeof className === 'string' && UNAVAILABLE_NAMES.has(className)) return true;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    current = cause;
  }
  return false;
}
