import type { TemplatedApp } from 'uWebSockets.js';
import { readQuery, route, sendJson, ServedRoute } from '../gateway/http';
import { AsyncApiDocument, buildAsyncApi } from './asyncapi';
import { buildOpenApi, OpenApiDocument } from './openapi';

/** Serves `/openapi.json` and `/asyncapi.json`, each rendered once. */
export function registerApiDocs(app: TemplatedApp): void {
  const openApi = JSON.stringify(buildOpenApi());
  const asyncApi = JSON.stringify(buildAsyncApi());
  route(app, 'get', '/openapi.json', (res, req) => {
    readQuery(req, []);
    sendJson(res, 200, openApi);
  });
  route(app, 'get', '/asyncapi.json', (res, req) => {
    readQuery(req, []);
    sendJson(res, 200, asyncApi);
  });
}

/**
 * What the two documents describe, written as the route registry writes what is served
 * (`:symbol` for OpenAPI's `{symbol}`, `ws` for a WebSocket channel), for comparing the two.
 */
export function documentedRoutes(openApi: OpenApiDocument, asyncApi: AsyncApiDocument): ServedRoute[] {
  const routes: ServedRoute[] = [];
  for (const [path, item] of Object.entries(openApi.paths)) {
    for (const method of Object.keys(item)) routes.push({ method: method as ServedRoute['method'], pattern: path.replace(/\{([^}]+)\}/g, ':$1') });
  }
  for (const channel of Object.values(asyncApi.channels) as { address: string }[]) routes.push({ method: 'ws', pattern: channel.address });
  return routes;
}
