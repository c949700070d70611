import { NodeeError } from '../../lib/errors.js';
import { resolveCommand } from '../steps/command.js';
import { commandLine, serviceEnvironment } from '../steps/environment.js';
import { checkFilePaths } from '../steps/files.js';
import { resolveUser, type RunAs } from '../steps/user.js';
import type { HookContext, LaunchPlan, ServiceHook } from './hook.js';

/**
 * Everything a start needs that can be checked without side effects: the artifact is
 * installed, the user exists, `${VAR}`s resolve, the command is found, `files[].from` stay in
 * the artifact. The same code answers create (a 400 before anything is made) and builds the
 * plan of every start, so a start never runs a check create skipped, or the other way round.
 */
export function validateHook(ctx: HookContext, artifacts: { installedPath(id: string): string | undefined }): ServiceHook {
  // NSS (getent) is asked once per service and daemon life, not on every restart
  let user: RunAs | undefined;
  return {
    name: 'validate',
    validate(plan: LaunchPlan): void {
      const { spec } = ctx;
      const softwareDir = artifacts.installedPath(spec.artifact);
      if (!softwareDir) throw new NodeeError('ARTIFACT_NOT_INSTALLED', `artifact ${spec.artifact} is not installed`);
      if (spec.user) user ??= resolveUser(spec.user);
      checkFilePaths(spec.files, softwareDir);
      // before create allocated them, every named port is 0: the names resolve all the same
      const ports = { ...Object.fromEntries(spec.ports.map((p) => [p, 0])), ...ctx.ports() };
      const env = serviceEnvironment({ spec, runtimeDir: ctx.paths.runtimeDir, softwareDir, ports, user });
      const argv = commandLine(spec, env);
      argv[0] = resolveCommand(argv[0]!, softwareDir, env.PATH);
      Object.assign(plan, { softwareDir, user, env, argv });
    },
  };
}
