import {
  Controller,
  Get,
  NotFoundException,
  Param,
  Req,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import '../session/session.types';
import { IMMUTABLE_CACHE, PAGE_CACHE, WebSite, type PageName } from './web-site';

/**
 * The web UI's pages and assets (docs/api.md, HTTP API: /login, /register, / and /analytics).
 * The signed-in pages send a visitor without a logged-in session to /login, the sign-in pages
 * send a signed-in one to /; the session is the one SessionGuard reads (req.session.user).
 * Only these paths are routed here, so unknown /api/* paths keep their JSON 404.
 */
@ApiExcludeController()
@Controller()
export class WebController {
  constructor(private readonly site: WebSite) {}

  @Get()
  tasks(@Req() req: Request, @Res() res: Response): void {
    this.signedInPage(req, res, 'tasks');
  }

  @Get('analytics')
  analytics(@Req() req: Request, @Res() res: Response): void {
    this.signedInPage(req, res, 'analytics');
  }

  @Get('login')
  login(@Req() req: Request, @Res() res: Response): void {
    this.signedOutPage(req, res, 'login');
  }

  @Get('register')
  register(@Req() req: Request, @Res() res: Response): void {
    this.signedOutPage(req, res, 'register');
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const path = this.site.asset(file);
    if (!path) throw new NotFoundException('No such asset');
    res.sendFile(path, {
      cacheControl: false,
      dotfiles: 'deny',
      headers: { 'Cache-Control': IMMUTABLE_CACHE },
    });
  }

  @Get('favicon.ico')
  favicon(@Res() res: Response): void {
    const icon = this.site.faviconPath();
    if (!icon) throw new NotFoundException('No favicon');
    res.set('Cache-Control', 'public, max-age=86400').redirect(302, icon);
  }

  private signedInPage(req: Request, res: Response, page: PageName): void {
    if (!req.session?.user) {
      const next = page === 'tasks' ? '' : `?next=${encodeURIComponent(req.path)}`;
      this.redirect(res, `/login${next}`);
      return;
    }
    this.send(res, page);
  }

  private signedOutPage(req: Request, res: Response, page: PageName): void {
    if (req.session?.user) {
      this.redirect(res, '/');
      return;
    }
    this.send(res, page);
  }

  private redirect(res: Response, location: string): void {
    // The answer depends on the session: never store it.
    res.set('Cache-Control', 'no-store').redirect(302, location);
  }

  private send(res: Response, page: PageName): void {
    const html = this.site.page(page);
    if (!html) throw new ServiceUnavailableException('The web UI is not built: run npm run build');
    const etag = this.site.pageETag(page);
    if (etag) res.set('ETag', etag);
    res.set('Cache-Control', PAGE_CACHE).type('html').send(html);
  }
}
