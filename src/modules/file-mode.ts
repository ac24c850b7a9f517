// File modes as Ansible users write them, with the YAML 1.2 trap refused instead of guessed.

/** A problem with a `mode` value, or undefined when it is fine. */
export function modeProblem(value: unknown, argument = 'mode'): string | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    parseMode(value, argument);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Parse a mode: an octal string ('0600', '600', '0o600') or a number that can only be a mode value.
 * A number whose decimal digits are all octal digits (644, 600, 420) is refused: YAML 1.2 reads an unquoted
 * 0644 as the decimal 644, YAML 1.1 as 420, and guessing wrong on a key file's mode is a security bug.
 */
export function parseMode(value: unknown, argument = 'mode'): number {
  if (typeof value === 'string') {
    const text = value.trim();
    const match = /^(?:0o|0)?([0-7]{1,4})$/.exec(text);
    if (!match) {
      throw new Error(`${argument} "${value}" is not an octal file mode; write it as a quoted octal string such as '0644'`);
    }
    return Number.parseInt(match[1] as string, 8);
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0o7777) {
      throw new Error(`${argument} ${value} is not a file mode; write it as a quoted octal string such as '0644'`);
    }
    if (value >= 8 && /^[0-7]+$/.test(String(value))) {
      throw new Error(
        `${argument} ${value} is ambiguous: an unquoted 0${value} is read by YAML 1.2 as the decimal number ${value}, not octal; ` +
          `write it as a quoted string, e.g. ${argument}: '0${value}'`,
      );
    }
    return value;
  }
  throw new Error(`${argument} must be a quoted octal string such as '0644'`);
}

export function formatMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
