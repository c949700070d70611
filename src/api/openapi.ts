import { ALL_STATES } from '../contract/index.js';
import { ERROR_CODES, type ErrorCode } from '../lib/errors.js';
import { version } from '../lib/version.js';

/**
 * The OpenAPI 3.1 description of the whole REST API, served at GET /openapi.json (open: it
 * describes routes, it holds no secret). docs/CONTRACT.md stays the contract; this is its
 * machine-readable form. test/api/openapi.test.mjs keeps it true: every route the daemon's
 * routers serve is here and nothing else, and every HTTP error code appears.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

/** Error codes the API answers with: those whose "status" is an HTTP status, not an exit code. */
export const HTTP_ERROR_CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c] >= 100);

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const ok = (description: string, schema?: Schema): Json => (schema ? { description, content: json(schema) } : { description });

/**
 * Error responses by status, each naming its codes (`x-error-codes`); the status comes from
 * ERROR_CODES itself, so a code can never be documented under the wrong one.
 */
function errors(codes: ErrorCode[], schema = ref('Error')): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code], [...(byStatus.get(ERROR_CODES[code]) ?? []), code]);
  const out: Record<string, Json> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[String(status)] = { description: list.join(' · '), 'x-error-codes': list, content: json(schema) };
  }
  return out;
}

// What guards every route but /healthz (docs/SECURITY.md: Host, Origin, then the token but
// on the open paths), and what any request with a body, or one that changes state, may meet.
const OPEN_GUARDED: ErrorCode[] = ['MISDIRECTED_REQUEST', 'FORBIDDEN', 'INTERNAL'];
const GUARDED: ErrorCode[] = [...OPEN_GUARDED, 'UNAUTHORIZED'];
const WITH_BODY: ErrorCode[] = ['BAD_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE'];
const WRITES: ErrorCode[] = ['STATE_WRITE_FAILED'];
// What any start of a process may meet (create, start, restart): the node drains, the
// reservation does not fit the capacity, the cgroup or the process cannot be made.
const STARTS: ErrorCode[] = ['NODE_DRAINING', 'INSUFFICIENT_RESOURCES', 'PREPARE_FAILED', 'SPAWN_FAILED', 'CGROUP_FAILED'];

interface Op {
  summary: string;
  responses: Record<string, Json>;
  body?: { schema: Schema; required: boolean };
  params?: Json[];
  open?: boolean; // no token needed
}

function op(o: Op): Json {
  const out: Record<string, Json> = { summary: o.summary, responses: o.responses };
  if (o.body) out.requestBody = { required: o.body.required, content: json(o.body.schema) };
  if (o.params) out.parameters = o.params;
  if (o.open) out.security = [];
  return out;
}

const pathParam = (name: string, description: string): Json => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const query = (name: string, schema: Schema, description: string): Json => ({ name, in: 'query', required: false, description, schema });
const COORDINATE = pathParam('coordinate', 'instance.service.user.cell');
const ARTIFACT = [pathParam('g', 'groupId'), pathParam('a', 'artifactId'), pathParam('v', 'version')];
const REVEAL = query('reveal', { const: 'env' }, 'show env values (masked as "***" otherwise)');

const serviceAction = (summary: string, status: '200' | '202', codes: ErrorCode[]): Json =>
  op({ summary, params: [COORDINATE], responses: { [status]: ok('the service', ref('Service')), ...errors([...GUARDED, ...WRITES, 'BAD_REQUEST', 'SERVICE_NOT_FOUND', ...codes]) } });

const paths: Record<string, Record<string, Json>> = {
  '/healthz': { get: op({ summary: 'liveness; no Host, Origin or token check', open: true, responses: { '200': ok('alive', { type: 'object', properties: { ok: { const: true } } }) } }) },
  '/metrics': { get: op({ summary: 'Prometheus text', open: true, responses: { '200': { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors(OPEN_GUARDED) } }) },
  '/': { get: op({ summary: 'the web console', open: true, responses: { '200': { description: 'one HTML page', content: { 'text/html': { schema: { type: 'string' } } } }, ...errors(OPEN_GUARDED) } }) },
  '/openapi.json': { get: op({ summary: 'this document', open: true, responses: { '200': ok('OpenAPI 3.1', { type: 'object' }), ...errors(OPEN_GUARDED) } }) },
  '/v1/status': { get: op({ summary: 'the node', responses: { '200': ok('the node', ref('NodeStatus')), ...errors(GUARDED) } }) },
  '/v1/drain': { post: op({ summary: 'node drain: refuse new starts (NODE_DRAINING), drain every service', responses: { '202': ok('the node', ref('NodeStatus')), ...errors([...GUARDED, ...WITH_BODY, ...WRITES]) } }) },
  '/v1/undrain': { post: op({ summary: 'end a node drain', responses: { '202': ok('the node', ref('NodeStatus')), ...errors([...GUARDED, ...WITH_BODY, ...WRITES]) } }) },
  '/v1/artifacts': { get: op({ summary: 'installed artifacts', responses: { '200': ok('the list', { type: 'object', required: ['artifacts'], properties: { artifacts: { type: 'array', items: ref('Artifact') } } }), ...errors(GUARDED) } }) },
  '/v1/artifacts/{g}/{a}/{v}': {
    get: op({ summary: 'one artifact, also while installing (with progress)', params: ARTIFACT, responses: { '200': ok('the artifact', ref('Artifact')), ...errors([...GUARDED, 'BAD_REQUEST', 'ARTIFACT_NOT_FOUND']) } }),
    put: op({
      summary: 'install; waits until done; concurrent PUTs of one id share one download',
      params: ARTIFACT,
      body: { schema: ref('InstallRequest'), required: false },
      responses: {
        '200': ok('already installed', ref('Artifact')),
        '201': ok('installed', ref('Artifact')),
        ...errors([...GUARDED, ...WITH_BODY, ...WRITES, 'ARTIFACT_NOT_FOUND', 'CHECKSUM_MISMATCH', 'BAD_ARCHIVE', 'UNSAFE_ARCHIVE', 'TOO_LARGE', 'REPOSITORY_ERROR', 'SHUTTING_DOWN']),
      },
    }),
    delete: op({ summary: 'remove', params: ARTIFACT, responses: { '204': ok('removed'), ...errors([...GUARDED, ...WRITES, 'BAD_REQUEST', 'ARTIFACT_NOT_FOUND', 'ARTIFACT_IN_USE']) } }),
  },
  '/v1/services': {
    get: op({ summary: 'all services', params: [REVEAL], responses: { '200': ok('the list', ref('ServiceList')), ...errors([...GUARDED, 'BAD_REQUEST']) } }),
    post: op({
      summary: 'start a new service from a ServiceSpec, or several ({"services": [...]}, validated whole)',
      body: { schema: { oneOf: [ref('ServiceSpec'), ref('ServiceBatch')] }, required: true },
      responses: {
        '201': ok('the service, or {"services": [...]} for a batch', { oneOf: [ref('Service'), ref('ServiceList')] }),
        // a batch that fails part-way names what it did create next to the error
        ...errors([...GUARDED, ...WITH_BODY, ...WRITES, ...STARTS, 'ARTIFACT_NOT_INSTALLED', 'SERVICE_EXISTS', 'PORTS_EXHAUSTED', 'CHECKSUM_MISMATCH', 'BAD_ARCHIVE', 'UNSAFE_ARCHIVE', 'TOO_LARGE', 'REPOSITORY_ERROR'], ref('BatchError')),
      },
    }),
  },
  '/v1/services/{coordinate}': {
    get: op({ summary: 'one service', params: [COORDINATE, REVEAL], responses: { '200': ok('the service', ref('Service')), ...errors([...GUARDED, 'BAD_REQUEST', 'SERVICE_NOT_FOUND']) } }),
    delete: op({
      summary: 'forget a stopped service; purge=true also deletes its runtime dir and logs',
      params: [COORDINATE, query('purge', { type: 'boolean' }, 'delete the runtime dir too')],
      responses: { '204': ok('removed'), ...errors([...GUARDED, ...WRITES, 'BAD_REQUEST', 'SERVICE_NOT_FOUND', 'SERVICE_RUNNING', 'PURGE_FAILED']) },
    }),
  },
  '/v1/services/{coordinate}/start': { post: serviceAction('start', '200', STARTS) },
  '/v1/services/{coordinate}/stop': { post: serviceAction('stop; waits until the process tree is gone', '200', []) },
  '/v1/services/{coordinate}/restart': { post: serviceAction('stop, then start', '200', STARTS) },
  '/v1/services/{coordinate}/upgrade': {
    post: op({
      summary: 'stop, start on another installed artifact (same runtime dir and ports), roll back if not ready within timeoutSeconds',
      params: [COORDINATE],
      body: { schema: ref('UpgradeRequest'), required: true },
      responses: {
        '200': ok('the service, ready on the new artifact', ref('Service')),
        ...errors([...GUARDED, ...WITH_BODY, ...WRITES, ...STARTS, 'BAD_REQUEST', 'SERVICE_NOT_FOUND', 'ARTIFACT_NOT_INSTALLED', 'NOTIFY_FAILED', 'UPGRADE_ROLLED_BACK']),
      },
    }),
  },
  '/v1/services/{coordinate}/drain': { post: serviceAction('mark draining, send drain.signal, stop when it exits or at drain.timeoutSeconds', '202', []) },
  '/v1/services/{coordinate}/logs': {
    get: op({
      summary: 'the log as text; follow=true keeps the answer open and streams new lines',
      params: [
        COORDINATE,
        query('stream', { enum: ['stdout', 'stderr'], default: 'stdout' }, 'which log'),
        query('tail', { type: 'integer', minimum: 0 }, 'only the last N lines'),
        query('follow', { type: 'boolean' }, 'stream new lines until the client goes away'),
      ],
      responses: { '200': { description: 'log text', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors([...GUARDED, 'BAD_REQUEST', 'SERVICE_NOT_FOUND']) },
    }),
  },
  // the fleet, read from ZooKeeper by any daemon (src/scheduler/routes.ts); 503 on a standalone one
  '/v1/cluster/nodes': {
    get: op({ summary: 'every node record of the cell (or, for a child of nodesPath that is none, its name and why)', responses: { '200': ok('the nodes, by instance', { type: 'object', required: ['nodes'], properties: { nodes: { type: 'array', items: ref('ClusterNode') } } }), ...errors([...GUARDED, 'ZOOKEEPER_UNAVAILABLE']) } }),
  },
  '/v1/cluster/jobs': {
    get: op({ summary: 'every job of the cell with the scheduler\'s status of it', responses: { '200': ok('the jobs, by name', { type: 'object', required: ['jobs'], properties: { jobs: { type: 'array', items: ref('JobEntry') } } }), ...errors([...GUARDED, 'ZOOKEEPER_UNAVAILABLE']) } }),
  },
  '/v1/cluster/jobs/{name}': {
    get: op({
      summary: 'one job with the scheduler\'s status of it',
      params: [pathParam('name', 'service.user.cell')],
      responses: { '200': ok('the job', ref('JobEntry')), ...errors([...GUARDED, 'BAD_REQUEST', 'JOB_NOT_FOUND', 'ZOOKEEPER_UNAVAILABLE']) },
    }),
  },
};

const nullable = (type: string): Schema => ({ type: [type, 'null'] });
const strings = { type: 'array', items: { type: 'string' } };

const schemas: Record<string, Schema> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', enum: HTTP_ERROR_CODES }, message: { type: 'string' } } } },
  },
  BatchError: { allOf: [ref('Error'), { type: 'object', properties: { services: { type: 'array', items: ref('Service'), description: 'what a failed batch did create (it keeps running)' } } }] },
  InstallRequest: {
    type: 'object',
    additionalProperties: false,
    properties: { url: { type: 'string', pattern: '^(https?|file)://\\S+$', maxLength: 4096 }, sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } },
  },
  Artifact: {
    type: 'object',
    properties: {
      id: { type: 'string' }, groupId: { type: 'string' }, artifactId: { type: 'string' }, version: { type: 'string' },
      state: { enum: ['installing', 'installed'] }, path: { type: 'string' }, sizeBytes: { type: 'integer' }, fileCount: { type: 'integer' },
      sha256: { type: 'string' }, source: { type: 'string' }, installedAt: { type: 'string', format: 'date-time' },
      progress: { type: 'object', properties: { bytes: { type: 'integer' }, totalBytes: nullable('integer') } },
    },
  },
  ServiceSpec: {
    type: 'object',
    required: ['coordinate', 'artifact'],
    additionalProperties: false,
    description: 'docs/services.md has every field and its default',
    properties: {
      coordinate: { type: 'string', pattern: '^(\\d+)\\.([a-z][a-z0-9_-]*)\\.([a-z][a-z0-9_-]*)\\.([a-z][a-z0-9_-]*)$' },
      artifact: { type: 'string', description: 'groupId:artifactId:version' },
      command: strings, args: strings, ports: strings,
      env: { type: 'object', additionalProperties: { type: 'string' } },
      user: { type: 'string' },
      restart: { type: 'object', properties: { policy: { enum: ['always', 'on-failure', 'never'] }, backoffMs: { type: 'integer' }, maxBackoffMs: { type: 'integer' }, limit: { type: 'object', properties: { restarts: { type: 'integer' }, windowSeconds: { type: 'integer' } } } } },
      stop: { type: 'object', properties: { signal: { type: 'string' }, timeoutSeconds: { type: 'number' } } },
      drain: { type: 'object', properties: { signal: { type: 'string' }, timeoutSeconds: { type: 'number' } } },
      files: { type: 'array', items: { type: 'object', properties: { from: { type: 'string' }, url: { type: 'string' }, to: { type: 'string' }, template: { type: 'boolean' } } } },
      restore: { type: 'object', properties: { url: { type: 'string' }, sha256: { type: 'string' } } },
      resources: ref('Resources'),
      checks: { type: 'array', maxItems: 32, items: ref('Check') },
      notify: {
        type: 'object',
        additionalProperties: false,
        description: 'sd_notify over NOTIFY_SOCKET (systemd Type=notify, WatchdogSec)',
        properties: {
          ready: { type: 'boolean', default: false, description: 'ready only once READY=1 is received (and every readiness check passes)' },
          watchdogMs: { type: 'integer', default: 0, description: '0, or 100 to 86400000: WATCHDOG=1 must come at least this often, else a restart with reason "watchdog"' },
        },
      },
      requires: { type: 'array', maxItems: 64, items: { type: 'string' }, description: 'coordinates on this node that must be ready first (state waiting meanwhile); unknown ones and cycles are 400' },
    },
  },
  Check: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'type'],
    description: 'exactly one of http, tcp, exec; readiness decides ready, liveness failing failureThreshold times after graceMs restarts the service (lastExit.reason "liveness:<name>")',
    properties: {
      name: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,31}$' },
      type: { enum: ['readiness', 'liveness'] },
      http: { type: 'object', properties: { port: { type: ['string', 'integer'] }, path: { type: 'string', default: '/' } }, required: ['port'] },
      tcp: { type: 'object', properties: { port: { type: ['string', 'integer'] } }, required: ['port'] },
      exec: { ...strings, minItems: 1, description: 'run in the runtime dir as the service user; exit 0 passes' },
      intervalMs: { type: 'integer', minimum: 100, default: 1000 },
      timeoutMs: { type: 'integer', minimum: 10, default: 1000 },
      failureThreshold: { type: 'integer', minimum: 1, default: 3 },
      graceMs: { type: 'integer', minimum: 0, default: 0 },
    },
  },
  CheckView: {
    type: 'object',
    required: ['name', 'type', 'status', 'output', 'at'],
    properties: { name: { type: 'string' }, type: { enum: ['readiness', 'liveness'] }, status: { enum: ['passing', 'failing', 'pending'] }, output: { type: 'string' }, at: nullable('string') },
  },
  UpgradeRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['artifact'],
    properties: { artifact: { type: 'string', description: 'groupId:artifactId:version, installed' }, timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 60 } },
  },
  Resources: {
    type: 'object',
    additionalProperties: false,
    description: 'limits (memoryMB, cpu, pids: the service cgroup\'s) and reservations (all four, checked against the node\'s capacity: 409 INSUFFICIENT_RESOURCES); an absent field is neither',
    properties: {
      memoryMB: { type: 'number', minimum: 4, maximum: 16 * 1024 * 1024, description: 'hard memory limit of the whole service; over it the service is OOM-killed (lastExit.oom)' },
      cpu: { type: 'number', minimum: 0.01, maximum: 4096, description: 'cores (0.5 is half a core), a CPU quota' },
      pids: { type: 'integer', minimum: 1, maximum: 4_194_304, description: 'most processes and threads at once' },
      diskMB: { type: 'number', minimum: 0, maximum: 1024 ** 3, description: 'a reservation only, not enforced' },
    },
  },
  Usage: {
    type: 'object',
    description: 'read from the service\'s cgroup; null where unknown (not running, or containment none)',
    required: ['memoryBytes', 'cpuSeconds', 'pids'],
    properties: { memoryBytes: nullable('integer'), cpuSeconds: nullable('number'), pids: nullable('integer') },
  },
  NodeResources: {
    type: 'object',
    required: ['memoryMB', 'cpu', 'diskMB'],
    properties: { memoryMB: { type: 'number' }, cpu: { type: 'number' }, diskMB: { type: 'number' } },
  },
  ServiceBatch: { type: 'object', required: ['services'], properties: { services: { type: 'array', minItems: 1, items: ref('ServiceSpec') } } },
  Service: {
    type: 'object',
    properties: {
      coordinate: { type: 'string' }, artifact: { type: 'string' }, state: { enum: [...ALL_STATES] },
      pid: nullable('integer'), startedAt: nullable('string'), restarts: { type: 'integer' },
      lastExit: {
        type: ['object', 'null'],
        description: 'code and signal both null: an exit nobody saw (the process died while no daemon watched it)',
        properties: {
          code: nullable('integer'), signal: nullable('string'), at: { type: 'string' },
          oom: { type: 'boolean', description: 'the kernel\'s OOM killer ended it (over resources.memoryMB); absent in records of nodee 0.1' },
          reason: { type: 'string', description: 'nodee ended it as unhealthy: "liveness:<check>" or "watchdog"; absent otherwise' },
        },
      },
      runtimeDir: { type: 'string' }, ports: { type: 'object', additionalProperties: { type: 'integer' } },
      usage: ref('Usage'),
      ready: { type: 'boolean', description: 'running, every readiness check passing, READY=1 received when notify.ready' },
      statusText: { ...nullable('string'), description: 'the last STATUS= sent over NOTIFY_SOCKET' },
      checks: { type: 'array', items: ref('CheckView') },
      spec: ref('ServiceSpec'),
    },
  },
  ServiceList: { type: 'object', required: ['services'], properties: { services: { type: 'array', items: ref('Service') } } },
  NodeStatus: {
    type: 'object',
    properties: {
      instance: { type: 'string' }, hostname: { type: 'string' }, version: { type: 'string' }, pid: { type: 'integer' },
      state: { enum: ['active', 'draining'] }, startedAt: { type: 'string', format: 'date-time' },
      console: { type: 'object', properties: { url: { type: 'string' }, port: { type: 'integer' } } },
      zookeeper: { type: 'object', properties: { state: { enum: ['connected', 'connecting', 'disconnected', 'standalone'] }, path: nullable('string'), conflict: { type: 'string' } } },
      scheduler: { type: 'object', required: ['enabled', 'leader', 'leaderInstance'], properties: { enabled: { type: 'boolean' }, leader: { type: 'boolean' }, leaderInstance: nullable('string') }, description: 'fleet scheduling: whether this node takes part, whether it leads, and who does' },
      machine: { type: 'object', additionalProperties: { type: ['number', 'array'] } },
      counts: { type: 'object' },
      labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'config labels, published for placement' },
      resources: {
        type: 'object',
        required: ['capacity', 'reserved'],
        description: 'capacity: what the node offers (config capacity, else measured); reserved: the resources of services not stopped, exited or failed',
        properties: { capacity: ref('NodeResources'), reserved: ref('NodeResources') },
      },
      containment: { enum: ['cgroup2', 'cgroup1', 'none'], description: 'none: services are contained by process groups only' },
    },
  },
  ClusterNode: {
    type: 'object',
    required: ['instance'],
    description: 'a node record as the node publishes it in ZooKeeper (docs/CONTRACT.md, "ZooKeeper"); for a child of nodesPath that is no record, only instance and error',
    properties: {
      instance: { type: 'string' }, hostname: { type: 'string' }, version: { type: 'string' }, state: { type: 'string' },
      console: { type: 'object', properties: { url: { type: 'string' }, port: { type: 'integer' } } },
      services: { type: 'array', items: { type: 'object', properties: { coordinate: { type: 'string' }, artifact: { type: 'string' }, state: { type: 'string' }, ready: { type: 'boolean' }, ports: { type: 'object', additionalProperties: { type: 'integer' } } } } },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      resources: { type: 'object', properties: { capacity: ref('NodeResources'), reserved: ref('NodeResources') } },
      error: { type: 'string', description: 'why the znode is no node record' },
    },
  },
  Job: {
    type: 'object',
    required: ['name', 'type', 'count', 'spec', 'version'],
    description: 'jobs/<name> (docs/scheduler.md); env values in spec are "***"',
    properties: {
      name: { type: 'string', description: 'service.user.cell; instance i is the coordinate i.<name>' },
      type: { enum: ['service', 'batch'] },
      count: { type: 'integer', minimum: 0, maximum: 1000 },
      spec: { type: 'object', description: 'a ServiceSpec without coordinate' },
      constraints: { type: 'object', properties: { labels: { type: 'object', additionalProperties: { type: 'string' } } } },
      maxPerNode: { type: 'integer', minimum: 1 },
      version: { type: 'integer', minimum: 1, description: 'one more on every change' },
    },
  },
  JobStatus: {
    type: 'object',
    required: ['job', 'version', 'instances', 'counts', 'pending', 'updatedAt'],
    description: 'jobs/<name>/status, written by the scheduler\'s leader',
    properties: {
      job: { type: 'string' },
      version: { type: 'integer', description: 'the job version it describes' },
      instances: {
        type: 'array',
        items: {
          type: 'object',
          required: ['coordinate', 'node', 'state', 'ready'],
          properties: { coordinate: { type: 'string' }, node: nullable('string'), state: { type: 'string', description: 'the service state on its node, or pending, complete (batch), unknown (its node\'s record is gone)' }, ready: { type: 'boolean' } },
        },
      },
      counts: { type: 'object', additionalProperties: { type: 'integer' }, description: 'instances per state' },
      pending: { type: 'array', items: { type: 'object', required: ['coordinate', 'reason'], properties: { coordinate: { type: 'string' }, reason: { type: 'string', description: 'which rule excluded which nodes' } } } },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  JobEntry: {
    type: 'object',
    required: ['name', 'job', 'status'],
    properties: {
      name: { type: 'string', description: 'the znode\'s name under jobs/' },
      job: { oneOf: [ref('Job'), { type: 'null' }] },
      status: { oneOf: [ref('JobStatus'), { type: 'null' }], description: 'null until a leader has written one' },
      error: { type: 'string', description: 'why job or status is null although its znode is there' },
    },
  },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'nodee',
    version,
    description: 'The node daemon REST API (docs/CONTRACT.md). Errors are {"error": {"code", "message"}}. With api.tokenFile set, every route but the open ones needs "Authorization: Bearer <token>".',
  },
  components: {
    schemas,
    responses: {
      // any method and path no route serves (before or after the token check)
      NoRoute: { description: 'no route for that path, or not for that method', 'x-error-codes': ['NOT_FOUND', 'METHOD_NOT_ALLOWED'], content: json(ref('Error')) },
    },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'only when the daemon has api.tokenFile' } },
  },
  security: [{ bearer: [] }],
  paths,
} as const;

/** Served as it is: built once. */
export const openApiJson = JSON.stringify(openApiDocument);
