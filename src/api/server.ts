import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { Counter, Histogram } from 'prom-client';
import { splitHostPort } from '../config/index.js';
import { NodeeError, errnoOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Registry } from '../lib/metrics.js';
import { bearerAuth } from './auth.js';
import { consoleAssets } from './console-assets.js';
import { consolePage } from './console-page.js';
import { errorMiddleware } from './error-middleware.js';
import { jsonBody } from './json-body.js';
import { nodeRoutes, type NodeControl } from './node-routes.js';
import { openApiJson } from './openapi.js';
import { requestGuard } from './request-guard.js';

export interface ApiServerOptions {
  listen: string;
  tls?: { cert: string; key: string } | undefined;
  token?: string | undefined;
  bodyLimitBytes: number;
  /** Extra host names clients may address the API by (api.allowedHosts). */
  allowedHosts?: readonly string[] | undefined;
  log: Logger;
  metrics: Registry;
  node: NodeControl;
  /** Each capability's routes (artifacts, services). */
  routers: Router[];
}

/**
 * The REST API and web console. Every request passes, in this order: the Host/Origin
 * guard (421/403; not /healthz), the bearer token when one is configured (401; not
 * GET /healthz, /metrics, /, /openapi.json), the JSON body parser (415/413/400), then the routes.
 */
export class ApiServer {
  private readonly server: http.Server;
  private readonly app: Koa;
  private readonly log: Logger;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ApiServerOptions) {
    this.log = options.log.child({ component: 'api' });
    const app = (this.app = buildApp(options, this.log));
    const handler = app.callback();
    this.server = options.tls
      ? https.createServer({ cert: readPem(options.tls.cert, 'api.tls.cert'), key: readPem(options.tls.key, 'api.tls.key') }, handler)
      : http.createServer(handler);
    // a slow client must not hold a socket forever; logs -f keeps its response flowing
    this.server.requestTimeout = 5 * 60_000;
    this.server.headersTimeout = 20_000;
  }

  /**
   * Every route the app serves, as "METHOD /path/{param}", read from the routers mounted in
   * its middleware stack (the OpenAPI test compares them with the document). HEAD is
   * implied by GET.
   */
  routes(): string[] {
    const out = new Set<string>();
    for (const mw of this.app.middleware as Array<{ router?: Router }>) {
      for (const layer of mw.router?.stack ?? []) {
        const path = String(layer.path).replace(/:(\w+)/g, '{$1}');
        for (const method of layer.methods) if (method !== 'HEAD') out.add(`${method} ${path}`);
      }
    }
    return [...out].sort();
  }

  /** Binds the listen address; the port may be 0 (tests), the real one is returned. */
  async start(): Promise<{ url: string; port: number }> {
    const { host, port } = splitHostPort(this.options.listen);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new NodeeError('CONFIG_INVALID', `api.listen: cannot listen on ${this.options.listen} (${errnoOf(err) ?? String(err)})`);
    });
    const bound = (this.server.address() as AddressInfo).port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    const url = `${this.options.tls ? 'https' : 'http'}://${shownHost}:${bound}/`;
    this.log.info({ url }, 'api listening');
    return { url, port: bound };
  }

  /**
   * Stops accepting, lets requests in flight finish, then cuts what is still open after
   * `graceMs` (followed log streams never end by themselves). Safe to call twice.
   */
  close(graceMs = 5000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
    return this.closing;
  }
}

function buildApp(options: ApiServerOptions, log: Logger): Koa {
  const app = new Koa();
  app.silent = true; // errors are logged by errorMiddleware, never printed by koa
  const requests = new Counter({
    name: 'nodee_http_requests_total',
    help: 'API requests by method and status',
    labelNames: ['method', 'status'],
    registers: [options.metrics],
  });
  const duration = new Histogram({
    name: 'nodee_http_request_duration_seconds',
    help: 'API request duration',
    labelNames: ['method'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [options.metrics],
  });

  app.use(async (ctx, next) => {
    const end = duration.startTimer({ method: ctx.method });
    try {
      await next();
    } finally {
      end();
      requests.inc({ method: ctx.method, status: String(ctx.status) });
      log.debug({ method: ctx.method, path: ctx.path, status: ctx.status }, 'request');
    }
  });
  app.use(errorMiddleware(log));

  app.use(requestGuard({ listenHost: splitHostPort(options.listen).host, tls: options.tls !== undefined, allowedHosts: options.allowedHosts ?? [] }));
  // before any route, open ones included: what is open is decided by auth's own allow-list
  if (options.token) app.use(bearerAuth(options.token));
  app.use(consoleAssets());
  app.use(jsonBody(options.bodyLimitBytes));

  // exact paths: /HEALTHZ or /metrics/ are 404, not another spelling of an open route
  const open = new Router({ sensitive: true, strict: true });
  open.get('/healthz', (ctx) => {
    ctx.body = { ok: true };
  });
  open.get('/metrics', async (ctx) => {
    ctx.type = options.metrics.contentType;
    ctx.body = await options.metrics.metrics();
  });
  open.get('/', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    // 'self' for the console's own modules (/console/yaml/...), nothing from anywhere else
    ctx.set('Content-Security-Policy', "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'");
    ctx.body = consolePage;
  });
  open.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = openApiJson;
  });
  for (const router of [open, nodeRoutes(options.node), ...options.routers]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new NodeeError('CONFIG_INVALID', `${key}: cannot read ${file} (${errnoOf(err) ?? String(err)})`);
  }
}
