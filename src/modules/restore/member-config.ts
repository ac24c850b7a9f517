// `etcd.member-config`: read, read-only, how a host runs etcd and the control plane: kubeadm's static pod
// manifests or a systemd unit (with drop-ins, EnvironmentFiles and etcd's --config-file). On a member it
// gives the settings that identify it (name, URLs, data and WAL dirs, certificates, token); on every host
// its topology. What it read goes to the run's state for etcd.identities and the later steps.
import { stringVar } from '../../config/etcd-vars.js';
import {
  configFileOf,
  configFromManifest,
  configFromUnit,
  defaultManifestsDir,
  environmentFilesOf,
  newMarker,
  parseFiles,
  parseFirstRead,
  readFilesCommand,
  readLayoutCommand,
  topologyOf,
  type MemberConfig,
} from '../../etcd/members/read-config.js';
import { defineModule } from '../define.js';
import { check, mustSucceed } from '../plan-steps.js';
import type { Step } from '../step.js';
import { memberSettingsKey } from '../etcd-access.js';
import { forcedTopology, restoreClusterKey } from './restore-state.js';

export const etcdMemberConfigModule = defineModule({
  id: 'etcd.member-config',
  meta: { runsOn: 'host' },
  schema: {
    type: 'object',
    properties: {
      // kubelet's staticPodPath.
      manifests_dir: { type: 'string', pattern: '^/', default: defaultManifestsDir },
    },
    additionalProperties: false,
  },
  async *plan(ctx, args) {
    const unit = stringVar(ctx.host, 'etcd_service') ?? 'etcd';
    const forced = forcedTopology(ctx.host.vars.etcd_topology);
    const marker = newMarker();
    const first = mustSucceed(yield* check(readLayoutCommand(marker, unit, args.manifests_dir)), `read the etcd configuration of ${ctx.host.name}`);
    if (!first) return { changed: false };
    const layout = parseFirstRead(first.stdout, marker);
    const topology = topologyOf(layout, forced);
    let config: MemberConfig;
    if (topology === 'kubeadm') {
      config = configFromManifest(ctx.host.name, layout);
    } else {
      const files = new Map<string, string | undefined>();
      const envFiles = environmentFilesOf(layout).map((f) => f.path);
      if (envFiles.length > 0) for (const [path, text] of yield* readFiles(envFiles)) files.set(path, text);
      const configFile = configFileOf(layout, files);
      if (configFile !== undefined) for (const [path, text] of yield* readFiles([configFile])) files.set(path, text);
      config = configFromUnit(ctx.host.name, layout, files, unit);
    }
    if (forced === 'kubeadm' && !layout.manifest && !layout.staticPods.includes('kube-apiserver'))
      config.problems.push(`etcd_topology is kubeadm, but ${args.manifests_dir} holds no static pod of the control plane`);
    ctx.state.get(restoreClusterKey).configs.set(ctx.host.name, config);
    ctx.state.get(memberSettingsKey).set(ctx.host.name, { topology: config.topology, settings: config.settings });
    const { settings } = config;
    const summary = config.topology === 'kubeadm' ? `kubeadm static pods (${config.staticPods.join(', ') || 'none'})` : `systemd unit ${unit}`;
    return {
      changed: false,
      msg: `${summary}${settings.name ? `; member ${settings.name}` : ''}${settings.dataDir ? `, data ${settings.dataDir}` : ''}${settings.walDir ? `, WAL ${settings.walDir}` : ''}`,
      result: {
        topology: config.topology,
        static_pods: config.staticPods,
        sources: config.sources,
        settings,
        config_problems: config.problems,
        notes: config.notes,
      },
    };
  },
});

/** The second read: files the unit names. */
function* readFiles(paths: readonly string[]): Generator<Step, Map<string, string | undefined>, unknown> {
  const marker = newMarker();
  const read = mustSucceed(yield* check(readFilesCommand(marker, paths)), `read ${paths.join(', ')}`);
  return read ? parseFiles(read.stdout, marker) : new Map();
}
