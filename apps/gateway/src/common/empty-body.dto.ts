/** The body of a route that takes none: any field is rejected by the global ValidationPipe. */
export class EmptyBodyDto {}
