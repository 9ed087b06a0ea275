import type { OpenAPIObject, OperationObject, ResponseObject } from '@nestjs/swagger';
import { buildApiDocument } from './api-document';

/**
 * The OpenAPI document is exact enough to type a client (docs/api.md, "The OpenAPI document"):
 * built here as `npm run api:types` builds it, with no server and no backing service.
 */
describe('the OpenAPI document of the gateway', () => {
  let document: OpenAPIObject;

  beforeAll(async () => {
    document = await buildApiDocument();
  });

  function operations(): [string, OperationObject][] {
    return Object.entries(document.paths).flatMap(([path, item]) =>
      (['get', 'put', 'post', 'patch', 'delete'] as const)
        .filter((method) => item[method] !== undefined)
        .map((method): [string, OperationObject] => [`${method} ${path}`, item[method]!]),
    );
  }

  it('lists the JSON API only', () => {
    expect(Object.keys(document.paths).every((path) => path.startsWith('/api/'))).toBe(true);
    expect(document.paths['/api/tasks']?.get).toBeDefined();
  });

  it('gives every error answer the error body', () => {
    const errors = operations().flatMap(([name, operation]) =>
      Object.entries(operation.responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([status, response]) => [
          `${name} ${status}`,
          (response as ResponseObject).content?.['application/json']?.schema,
        ]),
    );
    expect(errors.length).toBeGreaterThan(20);
    for (const [, schema] of errors) {
      expect(schema).toEqual({ $ref: '#/components/schemas/ErrorView' });
    }
    expect(document.components?.schemas?.ErrorView).toMatchObject({
      required: ['statusCode', 'message', 'error'],
    });
  });

  it('asks for the session cookie and the CSRF token together on every state-changing route but sign-up and sign-in', () => {
    const changing = operations().filter(([name]) => !name.startsWith('get '));
    const security = Object.fromEntries(changing.map(([name, op]) => [name, op.security]));
    expect(security).toMatchObject({
      'post /api/auth/register': [],
      'post /api/auth/login': [],
    });
    for (const [name, operation] of changing) {
      if (name === 'post /api/auth/register' || name === 'post /api/auth/login') continue;
      expect([name, operation.security]).toEqual([name, [{ cookie: [], csrf: [] }]]);
      expect(operation.parameters ?? []).not.toContainEqual(
        expect.objectContaining({ in: 'header' }),
      );
    }
    expect(document.components?.securitySchemes?.csrf).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-CSRF-Token',
    });
  });

  it('says which operations take no body', () => {
    const noBody = operations()
      .filter(([, operation]) => {
        const body = operation.requestBody as { required?: boolean } | undefined;
        return body !== undefined && body.required !== true;
      })
      .map(([name]) => name)
      .sort();
    expect(noBody).toEqual([
      'delete /api/tasks/{id}',
      'post /api/auth/logout',
      'post /api/auth/sessions/revoke-others',
      'post /api/tasks/clear-completed',
    ]);
    expect(document.components?.schemas?.EmptyBodyDto).toBeUndefined();
  });

  it('types the page query and the answers the client reads', () => {
    const list = document.paths['/api/tasks'].get!;
    expect(list.parameters).toContainEqual(
      expect.objectContaining({ name: 'cursor', in: 'query', schema: { type: 'string' } }),
    );
    const summary = document.paths['/api/analytics/summary'].get!;
    expect((summary.responses['200'] as ResponseObject).content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/SummaryView' } },
    });
  });
});
