/** The request headers a browser sets that tell where a request comes from. */
export interface RequestOrigin {
  secFetchSite?: string;
  origin?: string;
  host?: string;
}

/**
 * Whether a browser sent this request from the gateway's own pages. Sec-Fetch-Site, which
 * every current browser sets, decides: `same-origin`, or `none` (typed or bookmarked). Without
 * it, an Origin header must name this host. A request with neither is not a browser's (curl,
 * the test suites) and cannot carry a victim's cookies in a login CSRF, so it passes.
 */
export function isSameOrigin({ secFetchSite, origin, host }: RequestOrigin): boolean {
  if (secFetchSite !== undefined) return secFetchSite === 'same-origin' || secFetchSite === 'none';
  if (origin === undefined) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
