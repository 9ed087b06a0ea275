import { Module } from '@nestjs/common';
import { WebController } from './web.controller';
import { WebSite } from './web-site';

/** Serves the built web UI (dist/web): the pages and their content-hashed assets. */
@Module({
  controllers: [WebController],
  providers: [{ provide: WebSite, useFactory: () => new WebSite() }],
})
export class WebModule {}
