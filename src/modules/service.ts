// `service` / `systemd`: bring a unit to a state. `systemctl is-active` runs first (read-only, also under
// --dry-run), so `started` on an active unit is "ok", not "changed".
import { shellJoin } from '../shell/quote.js';
import { defineModule } from './define.js';
import { booleanSchema, stripTrailingNewline, toBool } from './helpers.js';
import { check, exec, mustSucceed } from './plan-steps.js';

export interface ServiceArgs {
  name: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean | string;
  daemon_reload?: boolean | string;
  /** Accepted for Ansible compatibility; a unit's scope is always the system here. */
  scope?: 'system';
  no_block?: boolean | string;
}

export const serviceModule = defineModule({
  id: 'service',
  aliases: ['systemd', 'systemd_service', 'ansible.builtin.systemd_service', 'ansible.builtin.systemd', 'ansible.builtin.service'],
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
      enabled: booleanSchema,
      daemon_reload: booleanSchema,
      scope: { enum: ['system'] },
      no_block: booleanSchema,
    },
    required: ['name'],
    additionalProperties: false,
  },
  check(args) {
    // systemctl would read a leading "-" as an option (`-H host` even reaches another machine).
    return typeof args.name === 'string' && args.name.startsWith('-')
      ? [`name ${JSON.stringify(args.name)} is not a unit name (it starts with "-")`]
      : [];
  },
  async *plan(_ctx, args) {
    const { name } = args;
    let changed = false;
    const noBlock = toBool(args.no_block) ? ['--no-block'] : [];

    if (toBool(args.daemon_reload)) {
      mustSucceed(yield* exec(shellJoin(['systemctl', 'daemon-reload'])), 'systemctl daemon-reload', { name });
      changed = true;
    }

    let enabledNow: boolean | undefined;
    if (args.enabled !== undefined) {
      const wanted = toBool(args.enabled);
      const probe = yield* check(shellJoin(['systemctl', 'is-enabled', name]));
      enabledNow = probe ? probe.exitCode === 0 : undefined;
      if (enabledNow !== wanted) {
        mustSucceed(
          yield* exec(shellJoin(['systemctl', wanted ? 'enable' : 'disable', name])),
          `systemctl ${wanted ? 'enable' : 'disable'} ${name}`,
          { name },
        );
        changed = true;
        enabledNow = wanted;
      }
    }

    let activeState: string | undefined;
    if (args.state !== undefined) {
      const probe = yield* check(shellJoin(['systemctl', 'is-active', name]));
      const active = probe ? probe.exitCode === 0 : undefined;
      activeState = probe ? stripTrailingNewline(probe.stdout) || (active ? 'active' : 'inactive') : undefined;
      const verb = actionFor(args.state, active);
      if (verb) {
        mustSucceed(yield* exec(shellJoin(['systemctl', ...noBlock, verb, name])), `systemctl ${verb} ${name}`, { name });
        changed = true;
        activeState = args.state === 'stopped' ? 'inactive' : 'active';
      }
    }
    return {
      changed,
      result: {
        name,
        ...(args.state !== undefined ? { state: args.state } : {}),
        ...(enabledNow !== undefined ? { enabled: enabledNow } : {}),
        ...(activeState !== undefined ? { status: { ActiveState: activeState } } : {}),
      },
    };
  },
});

/** The systemctl verb needed, or undefined when the unit is already as wanted. */
function actionFor(state: NonNullable<ServiceArgs['state']>, active: boolean | undefined): string | undefined {
  switch (state) {
    case 'started':
      return active === true ? undefined : 'start';
    case 'stopped':
      return active === false ? undefined : 'stop';
    case 'restarted':
      return 'restart';
    case 'reloaded':
      return 'reload';
  }
}
