// Every message that may carry a secret (SDK errors echo request headers, URLs or keys) goes through a
// masker that knows the secrets in use and replaces them with ********.

export const MASK = '********';

export class SecretMasker {
  private readonly secrets = new Set<string>();

  /** Remember a secret; short values (under 8 characters) are not masked, they would blank ordinary words. */
  add(secret: string | undefined): this {
    if (secret !== undefined && secret.length >= 8) this.secrets.add(secret);
    return this;
  }

  mask(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(MASK);
    // Signed URLs and headers: the signature and credential scope are not secrets by themselves but are not for logs either.
    return out.replace(/(X-Amz-Signature=|Signature=)[0-9a-f]{16,}/gi, `$1${MASK}`).replace(/(X-Amz-Security-Token=)[^&\s]+/gi, `$1${MASK}`);
  }
}

/** An access key id shown as `AKIA…WXYZ`: enough to tell keys apart, not enough to use one. */
export function shortKeyId(accessKeyId: string): string {
  return accessKeyId.length <= 8 ? MASK : `${accessKeyId.slice(0, 4)}…${accessKeyId.slice(-4)}`;
}
