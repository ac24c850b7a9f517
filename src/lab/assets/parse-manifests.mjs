// ---------------------------------------------------------------------------
// orchestrate lab TEST FIXTURE - reads static pod manifests for the stand-in
// kubelet (src/lab/assets/kubelet.sh). Not part of orchestrate.
//   node parse-manifests.mjs SPEC-DIR NODE-NAME MANIFEST...
// writes, per manifest, SPEC-DIR/<path with / as _>.spec: tab-separated lines
//   uid <32 hex: md5 of the file and the node name, as kubelet derives it>
//   pod <name> <namespace> <terminationGracePeriodSeconds>
//   container <name> <image>, then its arg, env and mount lines
//   mount <mountPath> <hostPath> <hostPath type> <readOnly>
// or one line "error <message>" for a manifest kubelet would refuse.
// The YAML parser is the `yaml` package of orchestrate's own dependencies
// (its path in LAB_CRI_YAML).
// ---------------------------------------------------------------------------
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { parse } = require(process.env.LAB_CRI_YAML ?? 'yaml');
const [specDir, nodeName, ...files] = process.argv.slice(2);

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const plain = (value) => typeof value === 'string' && !/[\t\n\r]/.test(value);

function fail(message) {
  throw new Error(message);
}

function containerLines(container, volumes) {
  if (!container || typeof container !== 'object') fail('a container is not a mapping');
  if (!plain(container.name) || !dnsLabel.test(container.name)) fail(`container name ${JSON.stringify(container.name)} is not a DNS label`);
  const words = [...(container.command ?? []), ...(container.args ?? [])];
  if (words.length === 0) fail(`container ${container.name} has no command (the lab's kubelet has no images to take one from)`);
  if (!words.every(plain)) fail(`container ${container.name}: command and args must be strings without tabs or newlines`);
  const image = plain(container.image) ? container.image : fail(`container ${container.name} has no image`);
  const lines = [['container', container.name, image], ...words.map((word) => ['arg', word])];
  for (const variable of container.env ?? []) {
    if (!plain(variable?.name) || (variable.value !== undefined && !plain(String(variable.value)))) fail(`container ${container.name}: bad env entry`);
    if (variable.value !== undefined) lines.push(['env', `${variable.name}=${String(variable.value)}`]);
  }
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount?.name);
    if (!volume) fail(`container ${container.name}: volumeMount ${JSON.stringify(mount?.name)} names no volume`);
    if (!plain(mount.mountPath) || !mount.mountPath.startsWith('/')) fail(`container ${container.name}: bad mountPath`);
    lines.push(['mount', mount.mountPath, volume.path, volume.type ?? '', mount.readOnly === true ? 'true' : 'false']);
  }
  return lines;
}

function specOf(text) {
  const pod = parse(text);
  if (!pod || typeof pod !== 'object') fail('not a YAML mapping');
  if (pod.kind !== 'Pod') fail(`kind is ${JSON.stringify(pod.kind)}, not Pod`);
  const name = pod.metadata?.name;
  if (!plain(name) || !dnsLabel.test(name)) fail(`metadata.name ${JSON.stringify(name)} is not a DNS label`);
  const namespace = pod.metadata?.namespace ?? 'default';
  const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
  if (!Number.isInteger(grace) || grace < 0) fail('terminationGracePeriodSeconds must be a whole number');
  const volumes = new Map();
  for (const volume of pod.spec?.volumes ?? []) {
    if (!volume?.hostPath) fail(`volume ${JSON.stringify(volume?.name)}: only hostPath volumes exist for static pods here`);
    if (!plain(volume.hostPath.path) || !volume.hostPath.path.startsWith('/')) fail(`volume ${volume.name}: hostPath.path must be absolute`);
    volumes.set(volume.name, volume.hostPath);
  }
  const containers = pod.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) fail('spec.containers is empty');
  const uid = createHash('md5').update(text).update(nodeName).digest('hex');
  return [['uid', uid], ['pod', name, namespace, String(grace)], ...containers.flatMap((container) => containerLines(container, volumes))];
}

for (const file of files) {
  let lines;
  try {
    lines = specOf(readFileSync(file, 'utf8'));
  } catch (error) {
    lines = [['error', String(error.message).replace(/[\t\n]/g, ' ')]];
    process.stdout.write(`${new Date().toISOString()} manifest-error file=${file} error=${JSON.stringify(lines[0][1])}\n`);
  }
  const target = join(specDir, `${file.replaceAll('/', '_')}.spec`);
  writeFileSync(`${target}.tmp`, `${lines.map((line) => line.join('\t')).join('\n')}\n`);
  renameSync(`${target}.tmp`, target);
}
