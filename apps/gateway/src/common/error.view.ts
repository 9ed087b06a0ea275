import { ApiProperty, type OpenAPIObject } from '@nestjs/swagger';
import type { ErrorBody } from './all-exceptions.filter';

/** The body of every error answer, as AllExceptionsFilter writes it (docs/api.md, "Errors"). */
export class ErrorView implements ErrorBody {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({
    example: 'title must be 1 to 500 characters long after trimming',
    description: 'One string: validation problems joined with "; "; never a stack trace',
  })
  message!: string;

  @ApiProperty({ example: 'Bad Request', description: 'The reason phrase of statusCode' })
  error!: string;
}

const ERROR_VIEW_REF = { $ref: `#/components/schemas/${ErrorView.name}` };

/**
 * Gives every 4xx and 5xx response of the document that declares no body ErrorView as its
 * JSON body, so that no route can leave one out. Pass ErrorView in `extraModels` of
 * SwaggerModule.createDocument so that the schema is in the document.
 */
export function withErrorBodies(document: OpenAPIObject): OpenAPIObject {
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of [
      pathItem.get,
      pathItem.put,
      pathItem.post,
      pathItem.delete,
      pathItem.patch,
    ]) {
      for (const [status, response] of Object.entries(operation?.responses ?? {})) {
        if (!/^[45]\d\d$/.test(status) || !response || '$ref' in response) continue;
        if (response.content) continue;
        response.content = { 'application/json': { schema: ERROR_VIEW_REF } };
      }
    }
  }
  return document;
}
