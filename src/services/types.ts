/** Every state a service can be in (contract: Service.state). */
export const ALL_STATES = ['starting', 'running', 'backoff', 'stopping', 'draining', 'stopped', 'exited', 'failed'] as const;
export type ServiceState = (typeof ALL_STATES)[number];

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  at: string;
}

/** A service as the API shows it (contract: "Service"). `spec` is the validated ServiceSpec. */
export interface Service {
  coordinate: string;
  artifact: string;
  state: ServiceState;
  pid: number | null;
  startedAt: string | null;
  restarts: number;
  lastExit: ExitInfo | null;
  runtimeDir: string;
  ports: Record<string, number>;
  spec: Record<string, unknown>;
}
