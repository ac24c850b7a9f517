// The lab's public API: bring N real hosts up on this machine, inspect them, take them down.
export { labUp, labIsRunning, type LabUpOptions, type LabUpResult } from './lab-up.js';
export { labDown, labProcesses, type LabDownReport } from './lab-down.js';
export { labStatus, type LabStatusReport, type LabHostStatus, type ServiceState } from './lab-status.js';
export { labDamage, labRogueKey, type LabDamageReport } from './lab-damage.js';
export { labInfoFromState, type LabInfo, type LabHostInfo, type LabPkiInfo } from './lab-info.js';
export { readLabState, type LabState, type LabHostState } from './lab-state.js';
export { runInHost, hostSystemctl } from './host-exec.js';
export { labSeedKeys, seededPodCount } from './seed-data.js';
export { LabError, LabNeedsRootError } from './lab-error.js';
export { defaultLabNet, defaultLabMembers, maxLabMembers, labAddresses, etcdMemberName, parseLabNet, resolveLabDir } from './paths.js';
export { etcdServiceName, kubeServices, kubeMasterServices, kubeNodeServices } from './units.js';
export { labHostIdentityPath } from './host-files.js';
