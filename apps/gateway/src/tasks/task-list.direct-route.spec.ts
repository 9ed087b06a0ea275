import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import helmet from 'helmet';
import { directReadStatus, headersSetBy } from './task-list.direct-route';

function request(method: string, url: string, headers: Record<string, string> = {}) {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.headers = headers;
  return req;
}

describe('which requests the direct read route may answer', () => {
  it.each([
    ['/api/tasks', 'all'],
    ['/api/tasks?status=all', 'all'],
    ['/api/tasks?status=active', 'active'],
    ['/api/tasks?status=completed', 'completed'],
  ])('GET %s lists %s', (url, status) => {
    expect(directReadStatus(request('GET', url))).toBe(status);
  });

  it.each([
    ['HEAD', '/api/tasks', {}],
    ['POST', '/api/tasks', {}],
    ['GET', '/api/tasks/', {}],
    ['GET', '/API/tasks', {}],
    ['GET', '/api/tasks?', {}],
    ['GET', '/api/tasks?status=bogus', {}],
    ['GET', '/api/tasks?status=active&status=active', {}],
    ['GET', '/api/tasks?status=active&x=1', {}],
    ['GET', '/api/tasks?status=%61ctive', {}],
    ['GET', 'http://gateway/api/tasks', {}],
    ['GET', '/api/tasks', { 'content-length': '0' }],
    ['GET', '/api/tasks', { 'transfer-encoding': 'chunked' }],
  ])('leaves %s %s %j to Nest', (method, url, headers) => {
    expect(directReadStatus(request(method, url, headers))).toBeUndefined();
  });
});

describe('headersSetBy', () => {
  it("reads helmet's headers with their names as helmet sets them", () => {
    const headers = headersSetBy(helmet());
    const names = headers.filter((_, i) => i % 2 === 0);
    expect(names).toEqual(
      expect.arrayContaining([
        'Content-Security-Policy',
        'X-Content-Type-Options',
        'X-Frame-Options',
      ]),
    );
    expect(headers[headers.indexOf('X-Content-Type-Options') + 1]).toBe('nosniff');
  });

  it('refuses a middleware that does not pass the request on', () => {
    expect(() => headersSetBy(() => undefined)).toThrow('did not pass the request on');
  });
});
