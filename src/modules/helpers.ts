// Small pieces shared by the core modules: Ansible's captured-output conventions and boolean words.

/** Ansible strips the trailing newline of captured output. */
export function stripTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

export function splitLines(text: string): string[] {
  return text === '' ? [] : text.split(/\r?\n/);
}

/** The words Ansible accepts for booleans (YAML 1.2 reads `yes` as a string). */
export const booleanWords = ['yes', 'no', 'true', 'false', 'on', 'off', 'True', 'False', 'Yes', 'No', '1', '0'] as const;

/** JSON Schema for an argument that is a boolean or one of Ansible's boolean words. */
export const booleanSchema = { anyOf: [{ type: 'boolean' }, { type: 'string', enum: booleanWords }] } as const;

export function toBool(value: unknown, fallback = false): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  // Module schemas admit only booleans and boolean words (booleanSchema), so anything else is false.
  return typeof value === 'string' && ['yes', 'true', 'on', '1'].includes(value.toLowerCase());
}
