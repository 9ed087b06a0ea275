import { isServiceUnavailableError } from './infrastructure-errors';

describe('isServiceUnavailableError', () => {
  function named(name: string, extra: Record<string, unknown> = {}): Error {
    return Object.assign(new Error('x'), { name }, extra);
  }

  class ClientOfflineError extends Error {}

  it.each([
    new ClientOfflineError('The client is offline'),
    named('ClientClosedError'),
    named('ClientOfflineError'),
    named('DisconnectsClientError'),
    named('MongoServerSelectionError'),
    Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
    new Error('wrapped', { cause: named('SocketClosedUnexpectedlyError') }),
  ])('recognises %p as an unavailable dependency', (error) => {
    expect(isServiceUnavailableError(error)).toBe(true);
  });

  it.each([new Error('bug'), named('TypeError'), 'text', null, undefined, { code: 11000 }])(
    'leaves %p to the generic 500',
    (error) => {
      expect(isServiceUnavailableError(error)).toBe(false);
    },
  );
});
