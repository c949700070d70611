import type { ApiClient } from './api-client.js';

/** What every CLI command receives; commands write only to out/err and return an exit status. */
export interface CliContext {
  api: ApiClient;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** --json: print the API's JSON instead of a table. */
  json: boolean;
}
