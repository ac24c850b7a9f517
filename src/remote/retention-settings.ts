// Retention for the remote place: `backup_remote.keep_last` etc., with the same meaning as the local
// backup_keep_* variables. Unset: the remote follows the local policy (the same rules in each place).
import { checkPolicy, hasPolicy, type RetentionPolicy } from '../etcd/backup/retention.js';
import type { ProblemSink } from './setting-readers.js';

const FIELDS: [string, keyof RetentionPolicy][] = [
  ['keep_last', 'keepLast'],
  ['ttl_seconds', 'ttlSeconds'],
  ['keep_hourly', 'hourly'],
  ['keep_daily', 'daily'],
  ['keep_weekly', 'weekly'],
];

export function readRemoteRetention(map: Record<string, unknown>, problem: ProblemSink): RetentionPolicy | undefined {
  const policy: RetentionPolicy = {};
  for (const [key, field] of FIELDS) {
    const value = map[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number') {
      problem([key], {
        code: 'remote.bad-retention',
        message: `${key} must be a number`,
        expected: key === 'ttl_seconds' ? 'a number of seconds' : 'a whole number of at least 1',
        fix: `write ${key}: N`,
      });
      continue;
    }
    policy[field] = value;
    const [message] = checkPolicy({ [field]: value });
    if (message !== undefined) {
      problem([key], {
        code: 'remote.bad-retention',
        message: `${key}: ${message.replace(/^--[a-z-]+ /, '')}`,
        expected: key === 'ttl_seconds' ? 'a positive number of seconds' : 'a whole number of at least 1',
        fix: `write ${key}: N`,
      });
    }
  }
  return hasPolicy(policy) ? policy : undefined;
}
