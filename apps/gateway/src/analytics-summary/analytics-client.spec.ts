import { connectFailureReason } from './analytics-client';

describe('connectFailureReason', () => {
  it("reads the error out of amqp-connection-manager's connectFailed event, without its url", () => {
    const event = {
      err: new Error('connect ECONNREFUSED 127.0.0.1:5672'),
      url: 'amqp://guest:secret@127.0.0.1:5672',
    };
    expect(connectFailureReason(event)).toBe('connect ECONNREFUSED 127.0.0.1:5672');
  });

  it('takes an Error as it is and a string as it is', () => {
    expect(connectFailureReason(new Error('boom'))).toBe('boom');
    expect(connectFailureReason('Error: Connection lost. Trying to reconnect...')).toBe(
      'Error: Connection lost. Trying to reconnect...',
    );
  });

  it('never prints an object', () => {
    expect(connectFailureReason({ url: 'amqp://guest:secret@host' })).toBe('unknown error');
    expect(connectFailureReason(null)).toBe('unknown error');
  });
});
