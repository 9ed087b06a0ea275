import { ApiBody } from '@nestjs/swagger';

/** The body of a route that takes none: any field is rejected by the global ValidationPipe. */
export class EmptyBodyDto {}

/**
 * The OpenAPI side of EmptyBodyDto: the operation takes no body (none, or `{}`; any field is
 * a 400), instead of the required object that `@Body() _body: EmptyBodyDto` would declare.
 */
export const ApiEmptyBody = () =>
  ApiBody({
    required: false,
    description: 'None: send no body, or `{}`; any field is refused with a 400',
    schema: { type: 'object', additionalProperties: false, maxProperties: 0 },
  });
